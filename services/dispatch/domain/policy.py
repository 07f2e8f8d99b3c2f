"""SLA policy per branch: calendar (time zone, working hours, holidays, make-up working days),
targets per priority and stage, and the at-risk share. Built from plain JSON-like dicts (the
reference file ``deploy/reference/sla_policy.json`` and an optional override from the
configuration), so it stays pure.

Policy document (every key optional)::

    {"at_risk_fraction": 0.8,
     "working_hours": {"mon": [["08:30", "12:00"], ["13:00", "17:30"]], ...},
     "holidays": ["2026-10-01", ...], "makeup_days": ["2026-10-10", ...],
     "targets": {"C": {"resolution": {"hours": 72, "working": true}},
                 "B": {"response": 1}},                         # a bare number is hours
     "branches": {"SH": {...the same keys, for one branch...}}}

A target may also be ``{"seconds": 3}`` (test policies). Layers apply in order: the built-in
defaults (PRODUCT.md table), the document's top level, its branch section, then the override's
top level and branch section.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from typing import Mapping

from .sla import AT_RISK_FRACTION, DEFAULT_TARGETS, HOUR, STAGES, Calendar, Target, merge_spans

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class PolicyError(ValueError):
    """The policy document is malformed."""


@dataclass(frozen=True)
class Policy:
    calendar: Calendar = field(default_factory=Calendar)
    targets: Mapping[str, Mapping[str, Target]] = field(default_factory=lambda: DEFAULT_TARGETS)
    at_risk_fraction: float = AT_RISK_FRACTION

    def target(self, priority: str, stage: str) -> Target:
        try:
            return self.targets[priority][stage]
        except KeyError:
            raise PolicyError(f"no SLA target for priority {priority!r}, stage {stage!r}") from None


def _time(text: str) -> time:
    try:
        h, m = (int(x) for x in str(text).split(":"))
        if (h, m) == (24, 0):
            return time(0, 0)                  # 24:00: the end of the day
        return time(h, m)                      # refuses 25:00, 08:60
    except (ValueError, TypeError):
        raise PolicyError(f"working hours must be HH:MM (00:00–24:00), not {text!r}") from None


def _spans(raw) -> tuple:
    try:
        return tuple((_time(a), _time(b)) for a, b in raw)
    except (TypeError, ValueError):
        raise PolicyError(f"working hours must be [[start, end], ...], not {raw!r}") from None


def _clock(secs: int) -> time:
    secs %= 86400
    return time(secs // 3600, secs % 3600 // 60, secs % 60)


def normalise_spans(spans: tuple, day: str = "") -> tuple:
    """A day's spans sorted by start, overlapping and touching ones merged
    (``[["13:00","17:30"],["08:30","12:00"]]`` → 08:30–12:00, 13:00–17:30;
    ``[["08:00","12:00"],["11:00","14:00"]]`` → 08:00–14:00). Spans that merge into more
    than 24 hours are refused."""
    out = []
    for a, b in merge_spans(spans):
        if b - a > 86400:
            raise PolicyError(f"working_hours.{day}: the spans overlap into more than 24 hours")
        out.append((_clock(a), _clock(b)))
    return tuple(out)


def parse_week(doc: Mapping) -> dict[int, tuple]:
    """``{"mon": [["08:30", "17:30"]], ...}`` → weekday index → spans, normalised (sorted,
    overlaps merged). A malformed day is refused naming it."""
    week = {}
    if not isinstance(doc or {}, Mapping):
        raise PolicyError(f"working_hours must be {{day: [[start, end], ...]}}, not {doc!r}")
    for name, spans in (doc or {}).items():
        if name not in DAYS:
            raise PolicyError(f"working_hours: unknown day {name!r} (use {', '.join(DAYS)})")
        try:
            week[DAYS.index(name)] = normalise_spans(_spans(spans), name)
        except PolicyError as exc:
            text = str(exc)
            raise PolicyError(text if text.startswith("working_hours.")
                              else f"working_hours.{name}: {text}") from None
    return week


def shift_calendar(doc: Mapping | None, tz: str = "Asia/Shanghai") -> Calendar | None:
    """An engineer's shift as a calendar (no holidays: a shift is worked as rostered)."""
    if not doc:
        return None
    return Calendar(tz=tz, week=parse_week(doc))


def _target(raw, current: Target | None) -> Target:
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        raw = {"hours": raw}
    if not isinstance(raw, Mapping):
        raise PolicyError(f"a target is hours or {{hours|seconds, working}}, not {raw!r}")
    working = bool(raw.get("working", current.working if current else False))
    if "seconds" in raw:
        hours = float(raw["seconds"]) / HOUR
    elif "hours" in raw:
        hours = float(raw["hours"])
    else:
        raise PolicyError(f"a target needs hours or seconds: {raw!r}")
    if hours <= 0:
        raise PolicyError(f"a target must be positive: {raw!r}")
    return Target(hours, working)


def _dates(raw) -> frozenset[date]:
    try:
        return frozenset(date.fromisoformat(str(d)) for d in raw or ())
    except ValueError as exc:
        raise PolicyError(f"bad date in policy: {exc}") from None


def _apply(layer: Mapping, cal: dict, targets: dict, fraction: float) -> float:
    if "timezone" in layer:
        cal["tz"] = str(layer["timezone"])
    if "working_hours" in layer:
        cal["week"] = parse_week(layer["working_hours"])
    if "holidays" in layer:
        cal["holidays"] = _dates(layer["holidays"])
    if "makeup_days" in layer:
        cal["makeup_days"] = _dates(layer["makeup_days"])
    for prio, stages in (layer.get("targets") or {}).items():
        row = targets.setdefault(prio, {})
        for stage, raw in stages.items():
            if stage not in STAGES:
                raise PolicyError(f"targets.{prio}: unknown stage {stage!r}")
            row[stage] = _target(raw, row.get(stage))
    if "at_risk_fraction" in layer:
        fraction = float(layer["at_risk_fraction"])
        if not 0 < fraction < 1:
            raise PolicyError("at_risk_fraction must be between 0 and 1")
    return fraction


def build_policy(branch: str, timezone: str | None = None, document: Mapping | None = None,
                 override: Mapping | None = None) -> Policy:
    """The policy of ``branch``: defaults, then ``document`` (top level, then its branch
    section), then ``override`` (likewise). ``timezone`` is the branch's (branches.json)."""
    cal: dict = {"tz": timezone} if timezone else {}
    targets = {p: dict(stages) for p, stages in DEFAULT_TARGETS.items()}
    fraction = AT_RISK_FRACTION
    for name, doc in (("sla_policy.json", document or {}), ("the override", override or {})):
        for where, layer in (("top level", doc), (f"branches.{branch}",
                                                  (doc.get("branches") or {}).get(branch) or {})):
            try:
                fraction = _apply(layer, cal, targets, fraction)
            except PolicyError as exc:
                raise PolicyError(f"SLA policy of branch {branch} ({name}, {where}): {exc}") from None
    for prio, stages in targets.items():
        missing = [s for s in STAGES if s not in stages]
        if missing:
            raise PolicyError(f"priority {prio} lacks targets for {', '.join(missing)}")
    return Policy(Calendar(**cal), targets, fraction)
