"""The dispatch board as the console shows it (pure): dispatch's ``GET /api/v1/board`` and
its roster (``GET /api/v1/engineers``) made into rows: breached jobs first, then those at
risk, then the unassigned, then the others by their next deadline; every engineer with
their shift, leave, zone and workload."""
from __future__ import annotations

from dataclasses import dataclass

BOARD_ROLES = ("dispatcher", "manager")     # who sees the board and assigns
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_URGENCY = {"overdue": 0, "at_risk": 1}


@dataclass(frozen=True)
class JobRow:
    ticket_no: str
    branch: str
    status: str
    priority: str
    category: str
    engineer_id: str | None
    escalated_to: str | None
    attention: str | None           # "overdue", "at_risk" or None
    stages: tuple[str, ...]         # the stages at risk or overdue
    due_at: str | None              # its most urgent open clock
    parts_expected_at: str | None

    @property
    def unassigned(self) -> bool:
        return self.engineer_id is None

    @property
    def group(self) -> str:
        """``breached``, ``at_risk``, ``unassigned`` or ``other`` (the board's order)."""
        if self.attention == "overdue":
            return "breached"
        if self.attention == "at_risk":
            return "at_risk"
        return "unassigned" if self.unassigned else "other"


@dataclass(frozen=True)
class EngineerRow:
    engineer_id: str
    name: str
    branch: str
    on_shift: bool
    on_leave: bool
    open_jobs: int
    max_jobs: int
    zone: str | None = None
    skills: tuple[str, ...] = ()
    shift: tuple[str, ...] = ()     # "mon 08:30–17:30", …; () for on call round the clock
    leave: tuple[tuple[str, str], ...] = ()
    on_site_at: str | None = None
    en_route_to: str | None = None

    @property
    def full(self) -> bool:
        return self.open_jobs >= self.max_jobs

    @property
    def load_percent(self) -> int:
        return min(100, round(100 * self.open_jobs / self.max_jobs)) if self.max_jobs else 100


def job_rows(board: dict) -> list[JobRow]:
    worst: dict[str, str] = {}
    stages: dict[str, list[str]] = {}
    for a in board.get("attention") or ():
        t = a.get("ticket_no")
        state = a.get("state")
        if state not in _URGENCY:
            continue
        stages.setdefault(t, []).append(str(a.get("stage")))
        if t not in worst or _URGENCY[state] < _URGENCY[worst[t]]:
            worst[t] = state
    rows = []
    for j in board.get("jobs") or ():
        nxt = j.get("next_deadline") or {}
        rows.append(JobRow(
            ticket_no=j["ticket_no"], branch=j.get("branch", ""), status=j.get("status", ""),
            priority=j.get("priority", ""), category=j.get("category", ""),
            engineer_id=j.get("engineer_id"), escalated_to=j.get("escalated_to"),
            attention=worst.get(j["ticket_no"]), stages=tuple(stages.get(j["ticket_no"], ())),
            due_at=nxt.get("due_at"), parts_expected_at=j.get("parts_expected_at")))
    order = {"breached": 0, "at_risk": 1, "unassigned": 2, "other": 3}
    # a job without a deadline goes last in its group; "~" sorts after any ISO instant
    return sorted(rows, key=lambda r: (order[r.group], r.due_at or "~", r.ticket_no))


def _shift(shift) -> tuple[str, ...]:
    if not isinstance(shift, dict):
        return ()
    out = []
    for day in WEEKDAYS:
        spans = shift.get(day) or []
        if spans:
            out.append(f"{day} " + ", ".join(f"{s[0]}–{s[1]}" for s in spans if len(s) == 2))
    return tuple(out)


def _leave(periods) -> tuple[tuple[str, str], ...]:
    out = []
    for p in periods or ():
        if isinstance(p, dict):
            out.append((str(p.get("from") or p.get("start") or ""),
                        str(p.get("to") or p.get("end") or "")))
        elif isinstance(p, (list, tuple)) and len(p) == 2:
            out.append((str(p[0]), str(p[1])))
    return tuple(out)


def engineer_rows(board: dict, roster: dict | None) -> list[EngineerRow]:
    """The board's engineers (workload, where they are) with the roster's zone, skills,
    shift and leave; the least loaded first."""
    people = {e.get("engineer_id"): e for e in (roster or {}).get("engineers") or ()}
    rows = []
    for e in board.get("engineers") or ():
        if not e.get("active", True):
            continue
        r = people.get(e["engineer_id"], {})
        rows.append(EngineerRow(
            engineer_id=e["engineer_id"], name=e.get("name", ""), branch=e.get("branch", ""),
            on_shift=bool(e.get("on_shift")), on_leave=bool(e.get("on_leave")),
            open_jobs=int(e.get("open_jobs") or 0), max_jobs=int(e.get("max_jobs") or 0),
            zone=r.get("zone"), skills=tuple(r.get("skills") or ()), shift=_shift(r.get("shift")),
            leave=_leave(r.get("leave")), on_site_at=e.get("on_site_at"),
            en_route_to=e.get("en_route_to")))
    return sorted(rows, key=lambda r: (r.on_leave, not r.on_shift, r.load_percent,
                                       r.engineer_id))


def latest_decision(job: dict | None) -> dict | None:
    """The job's last assignment decision (engineer or escalation, reason, ranking)."""
    found = (job or {}).get("assignments") or []
    return found[-1] if found else None
