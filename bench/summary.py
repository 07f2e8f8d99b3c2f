"""bench/results/summary.md from the scenarios' JSON files: the table of issue 16 with
today's figures, the ratio to the bare broker of the same run, and the target beside each,
met / not met."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from bench.common import loadavg, machine, ratio

MET, NOT = "met", "not met"


def _load(out: Path) -> dict:
    docs = {}
    for p in sorted(out.glob("*.json")):
        try:
            doc = json.loads(p.read_text(encoding="utf-8"))
        except ValueError:
            continue
        if isinstance(doc, dict) and "scenario" in doc:
            docs[doc["scenario"]] = doc
    return docs


def _f(fig, unit="", digits=0) -> str:
    if not fig or fig.get("median") is None:
        return "–"
    fmt = f"{{:,.{digits}f}}"
    return " / ".join(fmt.format(fig[k]) for k in ("min", "median", "max")) + unit


def _r(rat) -> str:
    if not rat:
        return "–"
    return f"{rat['min']:.3f}–{rat['max']:.3f} (median {rat['median']:.3f})"


def _base(d) -> str:
    return _f((d.get("baseline") or {}).get("msg_per_s"), " msg/s")


def _verdict(ok) -> str:
    return "–" if ok is None else (MET if ok else NOT)


def rows(docs: dict) -> list[tuple]:
    """(what, database, figure, ratio, bare broker, target, verdict)."""
    out = []
    for db, d in (docs.get("intake") or {}).get("databases", {}).items():
        fig = d.get("tickets_per_s")
        rat = ratio(fig or {}, (d.get("baseline") or {}).get("msg_per_s"))
        out.append((f"intake alone, {d.get('requests')} requests → `ticket_opened`", db,
                    _f(fig, " tickets/s", 1) + ("" if d.get("complete", True) else " (timed out)"),
                    _r(rat), _base(d), "≥ 0.20 of bare broker",
                    _verdict(rat["median"] >= 0.20 and d.get("complete") if rat else None)))
    for db, d in (docs.get("full") or {}).get("databases", {}).items():
        fig = d.get("assigned_per_s")
        rat = ratio(fig or {}, (d.get("baseline") or {}).get("msg_per_s"))
        out.append((f"full path, {d.get('requests')} requests → `engineer_assigned`", db,
                    _f(fig, " /s", 1) + ("" if d.get("complete", True) else " (timed out)"),
                    _r(rat), _base(d), "≥ 0.10 of bare broker",
                    _verdict(rat["median"] >= 0.10 and d.get("complete") if rat else None)))
    for db, d in (docs.get("paced") or {}).get("databases", {}).items():
        for rate, p in (d.get("rates") or {}).items():
            lat = p.get("latency_s") or {}
            fig = (f"{p.get('assigned_during_window_per_s')}/s assigned of "
                   f"{p.get('offered_per_s')}/s offered; p50 {_ms(lat.get('p50'))}, "
                   f"p99 {_ms(lat.get('p99'))}"
                   + ("" if p.get("complete_after_drain") else "; the queue grows"))
            target, ok = "", None
            if float(rate) >= 100:
                target = "p99 ≤ 250 ms at 100/s for 60 s"
                ok = (lat.get("p99") is not None and lat["p99"] <= 0.25
                      and bool(p.get("complete_after_drain")) and p.get("seconds", 0) >= 60)
                if p.get("seconds", 0) < 60 and lat.get("p99") is not None and lat["p99"] <= 0.25:
                    target += f" (held {p.get('seconds')} s only)"
            out.append((f"paced {float(rate):g}/s for {p.get('seconds')} s → assigned", db, fig,
                        "", _base(d), target, _verdict(ok)))
    for db, d in (docs.get("storm") or {}).get("databases", {}).items():
        if "error" in d:
            out.append(("storm", db, f"failed: {d['error'][:80]}", "", "", "", NOT))
            continue
        i = d.get("integrity") or {}
        n = d.get("requests")
        to, ta = d.get("seconds_to_all_opened"), d.get("seconds_to_all_assigned")
        doubled = (i.get("doubled_requests", 0) + i.get("doubled_ticket_no", 0)
                   + i.get("assigned_twice", 0))
        # a storm cut off at its timeout has requests not answered *yet*: not "lost"
        unanswered = (f"{i.get('lost')} lost" if d.get("complete")
                      else f"stopped at {_s(d.get('seconds_waited'))}: {i.get('lost')} not "
                           "answered yet")
        fig = (f"all opened {_s(to)}, all assigned {_s(ta)} "
               f"({d.get('opened')}/{n} opened, {d.get('assigned')}/{n} assigned; "
               f"{unanswered}, {doubled} doubled)")
        base = ((d.get("baseline") or {}).get("msg_per_s") or {}).get("median")
        rat = f"{n / to / base:.4f} (opened)" if to and base else "–"
        ok = ta is not None and ta <= 30 and i.get("lost") == 0 and doubled == 0
        out.append((f"{n:,} requests at once", db, fig, rat, _base(d),
                    "all assigned ≤ 30 s, 0 lost, 0 doubled", _verdict(ok)))
        rss = d.get("rss_mb_after") or {}
        if rss:
            vals = [v for v in rss.values() if v]
            out.append(("RSS per service after the storm", db,
                        ", ".join(f"{k} {v} MB" for k, v in rss.items()), "", "",
                        "each ≤ 150 MB", _verdict(bool(vals) and max(vals) <= 150
                                                  and len(vals) == len(rss))))
    for db, d in (docs.get("sla") or {}).get("databases", {}).items():
        ticks = d.get("ticks") or []
        for t in ticks:
            big = t["open_clocks"] >= 100000
            out.append((f"SLA timer tick, {t['open_clocks']:,} open clocks", db,
                        _f(t.get("tick_ms"), " ms", 1)
                        + f" (RaiseDueSla {_f(t.get('raise_due_ms'), ' ms', 1)})", "", "",
                        "≤ 10 ms at 100,000" if big else "",
                        _verdict(t["tick_ms"]["median"] <= 10 if big else None)))
        b = d.get("backlog")
        if b:
            fig = (f"{_s(b['seconds'])} for {b['raised']:,} raised"
                   + ("" if b["complete"] else f" (budget; ~{_s(b['projected_seconds'])} projected)"))
            out.append((f"backlog of {b['due_clocks']:,} due clocks", db, fig, "", "", "≤ 60 s",
                        _verdict(b["complete"] and b["seconds"] <= 60
                                 if b["due_clocks"] >= 100000 else None)))
        br = d.get("breach")
        if br:
            big = br["open_clocks"] >= 100000
            out.append((f"breach seen after its deadline, {br['open_clocks']:,} open clocks", db,
                        _f(br.get("late_s"), " s", 2), "", "", "≤ 2 s at 100,000",
                        _verdict(br["late_s"]["max"] is not None and br["late_s"]["max"] <= 2
                                 and br["late_s"]["n"] == br["samples"] if big else None)))
    for db, d in (docs.get("stored") or {}).get("databases", {}).items():
        stored = d.get("stored") or {}
        meds = []
        for count, s in stored.items():
            fig = s.get("tickets_per_s")
            rat = ratio(fig or {}, (d.get("baseline") or {}).get("msg_per_s"))
            meds.append((fig or {}).get("median"))
            out.append((f"intake alone with {int(count):,} tickets stored", db,
                        _f(fig, " tickets/s", 1), _r(rat), _base(d), "", "–"))
        if len(meds) >= 2 and all(meds):
            ok = meds[-1] >= 0.8 * meds[0]
            out.append(("intake's rate, most stored vs fewest", db,
                        f"{meds[-1] / meds[0]:.2f}×", "", "", "does not fall (≥ 0.8×)",
                        _verdict(ok)))
    return out


def _ms(x) -> str:
    return "–" if x is None else f"{x * 1000:,.0f} ms"


def _s(x) -> str:
    return "–" if x is None else f"{x:,.1f} s"


def write_summary(out: Path, elapsed: float | None = None) -> str:
    docs = _load(out)
    m = machine()
    lines = ["# Benchmarks (issue 16)", "",
             f"Generated {datetime.now(timezone.utc).isoformat(timespec='seconds')} by "
             f"`bench/suite.py`; commit {m['git_commit']}; {m['cores']} cores, "
             f"{m['memory_mb']} MB; load average now {loadavg()}"
             + (f"; this run took {elapsed:.0f} s." if elapsed else "."), "",
             "Ratios are the scenario's min/median/max over the bare broker's median in the "
             "same run (one kombu producer + one consumer, 1 KB persistent JSON, the same "
             "private node), measured just before the scenario.", "",
             "| what | db | today | ratio to bare broker | bare broker (min / median / max) "
             "| target | |", "|---|---|---|---|---|---|---|"]
    for r in rows(docs):
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |")
    lines += ["", "Load average before → after each scenario (1/5/15 min):", ""]
    for name, doc in docs.items():
        for db, d in doc.get("databases", {}).items():
            lines.append(f"- {name} ({db}): {d.get('load_before')} → {d.get('load_after')}")
    text = "\n".join(lines) + "\n"
    (out / "summary.md").write_text(text, encoding="utf-8")
    return text
