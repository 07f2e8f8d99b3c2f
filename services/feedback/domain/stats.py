"""The quality statistics and the monthly quality report (definitions in docs/feedback.md).

Pure Python: every figure is computed here from plain records, for one branch and one
calendar month in the branch's time zone.

- CSAT: share (%) of the surveys *answered* in the month whose overall score is 4 or 5.
- NPS: % promoters (would-recommend 9-10) minus % detractors (0-6) of the surveys answered
  in the month, from -100 to 100.
- response rate: of the surveys *issued* in the month, the share (%) answered (so far).
- first-time-fix rate: of the jobs *closed* in the month, the share (%) with
  ``first_time_fix`` (signed off at the first completion, one visit).
- SLA adherence per stage: of the SLA stages completed in the month, the share (%) met.
- A share whose denominator is 0 is ``None`` (no data, not 0 %). Shares are rounded to 0.1.
"""
from __future__ import annotations

import calendar
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime

from aftersales.localtime import month_of, month_window  # noqa: F401  (the branch's months)

STAGES = ("response", "dispatch", "arrival", "resolution")
SEVERITIES = ("low", "medium", "high")
TOP_CAUSES = 5


@dataclass(frozen=True)
class SlaFact:
    branch: str
    stage: str
    met: bool
    completed_at: datetime


@dataclass(frozen=True)
class CauseFact:
    branch: str
    cause: str
    diagnosed_at: datetime
    engineer_id: str | None = None


@dataclass(frozen=True)
class PartFact:
    branch: str
    sku: str
    quantity: int
    consumed_at: datetime


def pct(n: int, d: int) -> float | None:
    return round(100.0 * n / d, 1) if d else None


def nps(recommends: list[int]) -> float | None:
    if not recommends:
        return None
    promoters = sum(1 for r in recommends if r >= 9)
    detractors = sum(1 for r in recommends if r <= 6)
    return round(100.0 * (promoters - detractors) / len(recommends), 1)


def _answer_figures(answered) -> dict:
    overall = [s.answer.scores["overall"] for s in answered]
    return {
        "answered": len(answered),
        "csat": pct(sum(1 for o in overall if o >= 4), len(overall)),
        "average_overall": round(sum(overall) / len(overall), 2) if overall else None,
        "nps": nps([s.answer.recommend for s in answered]),
    }


def monthly_report(branch: str, month: str, *, surveys, jobs, sla, causes, parts, complaints,
                   follow_ups, visits, tz: str) -> dict:
    """The monthly quality report of one branch. Inputs may hold records of other months and
    branches: only the branch's records inside the month count."""
    start, end = month_window(month, tz)

    def inside(t: datetime | None) -> bool:
        return t is not None and start <= t < end

    surveys = [s for s in surveys if s.branch == branch]
    issued = [s for s in surveys if inside(s.issued_at)]
    answered = [s for s in surveys if inside(s.answered_at) and s.answer is not None]
    closed = [j for j in jobs if j.branch == branch and inside(j.closed_at)]
    stages = [f for f in sla if f.branch == branch and inside(f.completed_at)]
    diag = [c for c in causes if c.branch == branch and inside(c.diagnosed_at)]
    used = [p for p in parts if p.branch == branch and inside(p.consumed_at)]
    comp = [c for c in complaints if c.branch == branch]
    registered = [c for c in comp if inside(c.registered_at)]
    fus = [f for f in follow_ups if f.branch == branch and inside(f.opened_at)]
    vis = [v for v in visits if v.branch == branch]

    scores = Counter(s.answer.scores["overall"] for s in answered)
    ftf = sum(1 for j in closed if j.first_time_fix)
    sla_out = {}
    for stage in STAGES:
        of = [f for f in stages if f.stage == stage]
        met = sum(1 for f in of if f.met)
        sla_out[stage] = {"completed": len(of), "met": met, "adherence": pct(met, len(of))}
    parts_by_sku = Counter()
    for p in used:
        parts_by_sku[p.sku] += p.quantity
    cause_counts = Counter(c.cause for c in diag)

    engineers: dict[str, dict] = defaultdict(dict)
    ids = ({j.engineer_id for j in closed} | {s.engineer_id for s in answered}
           | {f.engineer_id for f in fus} | {c.engineer_id for c in registered})
    for e in sorted(i for i in ids if i):
        e_closed = [j for j in closed if j.engineer_id == e]
        e_ftf = sum(1 for j in e_closed if j.first_time_fix)
        engineers[e] = {
            "engineer_id": e,
            "jobs_closed": len(e_closed),
            "first_time_fix_rate": pct(e_ftf, len(e_closed)),
            **_answer_figures([s for s in answered if s.engineer_id == e]),
            "low_score_follow_ups": sum(1 for f in fus if f.engineer_id == e),
            "complaints": sum(1 for c in registered if c.engineer_id == e),
        }

    return {
        "branch": branch, "month": month, "timezone": tz,
        "from": start.isoformat(), "until": end.isoformat(),
        "surveys": {
            "issued": len(issued),
            "answered_of_issued": sum(1 for s in issued if s.answered_at is not None),
            "response_rate": pct(sum(1 for s in issued if s.answered_at is not None), len(issued)),
            **_answer_figures(answered),
            "overall_distribution": {str(k): scores.get(k, 0) for k in range(1, 6)},
            "low_score_follow_ups": len(fus),
        },
        "complaints": {
            "registered": len(registered),
            "by_severity": {s: sum(1 for c in registered if c.severity == s) for s in SEVERITIES},
            "escalated": sum(1 for c in registered if c.escalation_level > 0),
            "resolved": sum(1 for c in comp if inside(c.resolved_at)),
            "closed_confirmed": sum(1 for c in comp if inside(c.confirmed_at) and c.satisfied),
        },
        "jobs": {
            "closed": len(closed),
            "first_time_fix": ftf,
            "first_time_fix_rate": pct(ftf, len(closed)),
            "rework": sum(j.rework_count or 0 for j in closed),
        },
        "sla": sla_out,
        "fault_causes": [{"cause": c, "count": n} for c, n in
                         sorted(cause_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_CAUSES]],
        "parts": {"total_quantity": sum(parts_by_sku.values()),
                  "by_sku": [{"sku": s, "quantity": q} for s, q in sorted(parts_by_sku.items())]},
        "return_visits": {
            "due": sum(1 for v in vis if inside(v.due_at)),
            "done": sum(1 for v in vis if inside(v.completed_at)),
            "problems_found": sum(1 for v in vis if inside(v.completed_at)
                                  and v.outcome == "problem_found"),
        },
        "engineers": list(engineers.values()),
    }


def report_rows(report: dict) -> list[list]:
    """The report flattened for CSV: ``section, key, metric, value``."""
    rows: list[list] = []
    for section in ("surveys", "complaints", "jobs", "return_visits"):
        for metric, value in report[section].items():
            if isinstance(value, dict):
                for k, v in value.items():
                    rows.append([section, k, metric, v])
            else:
                rows.append([section, "", metric, value])
    for stage, figures in report["sla"].items():
        for metric, value in figures.items():
            rows.append(["sla", stage, metric, value])
    for c in report["fault_causes"]:
        rows.append(["fault_causes", c["cause"], "count", c["count"]])
    rows.append(["parts", "", "total_quantity", report["parts"]["total_quantity"]])
    for p in report["parts"]["by_sku"]:
        rows.append(["parts", p["sku"], "quantity", p["quantity"]])
    for e in report["engineers"]:
        for metric, value in e.items():
            if metric != "engineer_id":
                rows.append(["engineer", e["engineer_id"], metric, value])
    return [[report["branch"], report["month"], *r] for r in rows]


def days_in(month: str) -> int:
    y, m = (int(x) for x in month.split("-"))
    return calendar.monthrange(y, m)[1]
