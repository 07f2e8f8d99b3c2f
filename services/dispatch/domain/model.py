"""Dispatch's domain: the roster, choosing an engineer for a job, the job's state machine.

Pure Python: no framework, database or broker imports.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable, Mapping

# -- job states -----------------------------------------------------------------------------
ASSIGNED, ESCALATED, ACCEPTED, ON_SITE, COMPLETED = (
    "assigned", "escalated", "accepted", "on_site", "completed")
STATES = (ASSIGNED, ESCALATED, ACCEPTED, ON_SITE, COMPLETED)
OPEN_STATES = (ASSIGNED, ESCALATED, ACCEPTED, ON_SITE)
BUSY_STATES = (ASSIGNED, ACCEPTED, ON_SITE)   # count against the engineer's capacity

ENGINEER, SUPERVISOR = "engineer", "supervisor"
HQ_ESCALATION = "HQ"   # escalated_to when a branch has no supervisor on the roster


# -- the roster -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Engineer:
    engineer_id: str
    name: str
    branch: str
    skills: tuple[str, ...] = ()          # categories and product lines the person handles
    active: bool = True
    max_jobs: int = 3                     # concurrent open jobs
    role: str = ENGINEER                  # engineer | supervisor


@dataclass(frozen=True)
class Needs:
    """What a job asks of an engineer: its category and, when known, its product line
    (the asset's component category, e.g. ``main_structure``)."""
    category: str
    product_line: str | None = None

    def as_tuple(self) -> tuple[str, ...]:
        return tuple(n for n in (self.category, self.product_line) if n)


# -- choosing an engineer ---------------------------------------------------------------------
@dataclass(frozen=True)
class Candidate:
    engineer_id: str
    name: str
    matched: tuple[str, ...]
    open_jobs: int
    max_jobs: int

    @property
    def has_capacity(self) -> bool:
        return self.open_jobs < self.max_jobs

    @property
    def workload(self) -> str:
        return f"{self.open_jobs}/{self.max_jobs}"

    def as_dict(self) -> dict:
        return {"engineer_id": self.engineer_id, "name": self.name, "matched": list(self.matched),
                "open_jobs": self.open_jobs, "max_jobs": self.max_jobs,
                "has_capacity": self.has_capacity}


def rank(roster: Iterable[Engineer], workload: Mapping[str, int], needs: Needs) -> list[Candidate]:
    """The active engineers, best first: more skills matched, then free capacity
    (open jobs < max), then the fewest open jobs, then the engineer id (stable)."""
    wanted = needs.as_tuple()
    candidates = [
        Candidate(e.engineer_id, e.name, tuple(n for n in wanted if n in e.skills),
                  workload.get(e.engineer_id, 0), e.max_jobs)
        for e in roster if e.role == ENGINEER and e.active
    ]
    return sorted(candidates, key=lambda c: (-len(c.matched), not c.has_capacity, c.open_jobs,
                                             c.engineer_id))


@dataclass(frozen=True)
class Assignment:
    """The outcome of assigning one job: an engineer, or an escalation, and why."""
    engineer: Candidate | None
    escalated_to: str | None
    reason: str
    ranking: tuple[Candidate, ...]

    @property
    def assigned(self) -> bool:
        return self.engineer is not None


def supervisor_of(roster: Iterable[Engineer]) -> Engineer | None:
    sups = sorted((e for e in roster if e.role == SUPERVISOR and e.active),
                  key=lambda e: e.engineer_id)
    return sups[0] if sups else None


def assign(roster: Iterable[Engineer], workload: Mapping[str, int], needs: Needs) -> Assignment:
    """Pick the best-ranked engineer with free capacity; if nobody has any, escalate to the
    branch supervisor (HQ when the branch has none). ``reason`` explains the decision."""
    roster = list(roster)
    ranking = tuple(rank(roster, workload, needs))
    free = [c for c in ranking if c.has_capacity]
    if free:
        best = free[0]
        if best.matched:
            skill = f"技能匹配 {'、'.join(best.matched)}"
        else:
            skill = f"无匹配技能的空闲工程师（需要 {'、'.join(needs.as_tuple())}），按负载分配"
        reason = (f"{skill}；当前工单 {best.workload}；{len(free)} 名可接单工程师中排名第一"
                  f"（技能匹配优先，其次工单最少，再按工号）")
        return Assignment(best, None, reason, ranking)

    sup = supervisor_of(roster)
    escalated_to = sup.engineer_id if sup else HQ_ESCALATION
    to = f"主管 {sup.name}（{sup.engineer_id}）" if sup else "总部"
    if ranking:
        full = "、".join(f"{c.engineer_id} {c.workload}" for c in ranking)
        why = f"无可接单工程师：在岗工程师均已满负荷（{full}）"
    else:
        why = "无可接单工程师：本分公司没有在岗工程师"
    return Assignment(None, escalated_to, f"{why}；已升级至{to}", ranking)


# -- the job and its state machine ----------------------------------------------------------
class InvalidTransition(Exception):
    """The job is not in the state this step needs."""


@dataclass(frozen=True)
class Step:
    action: str      # accept | check_in | complete
    label: str       # for messages
    from_state: str
    to_state: str


STEPS = {
    "accept": Step("accept", "accept", ASSIGNED, ACCEPTED),
    "check_in": Step("check_in", "check in on", ACCEPTED, ON_SITE),
    "complete": Step("complete", "complete", ON_SITE, COMPLETED),
}


@dataclass
class Job:
    ticket_no: str
    branch: str
    priority: str
    category: str
    received_at: datetime
    status: str
    product_line: str | None = None
    engineer_id: str | None = None
    engineer_name: str | None = None
    escalated_to: str | None = None
    created_at: datetime | None = None
    assigned_at: datetime | None = None
    accepted_at: datetime | None = None
    checked_in_at: datetime | None = None
    completed_at: datetime | None = None
    summary: str | None = None
    parts_used: list[dict] = field(default_factory=list)

    @classmethod
    def open(cls, ticket_no: str, branch: str, priority: str, needs: Needs,
             received_at: datetime, assignment: Assignment, at: datetime) -> "Job":
        eng = assignment.engineer
        return cls(ticket_no=ticket_no, branch=branch, priority=priority,
                   category=needs.category, product_line=needs.product_line,
                   received_at=received_at, status=ASSIGNED if eng else ESCALATED,
                   engineer_id=eng.engineer_id if eng else None,
                   engineer_name=eng.name if eng else None,
                   escalated_to=assignment.escalated_to, created_at=at,
                   assigned_at=at if eng else None)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    def _move(self, action: str) -> None:
        step = STEPS[action]
        if self.status != step.from_state:
            raise InvalidTransition(
                f"cannot {step.label} job {self.ticket_no}: it is {self.status!r}; "
                f"only a job that is {step.from_state!r} can be moved to {step.to_state!r}")
        self.status = step.to_state

    def accept(self, at: datetime) -> None:
        self._move("accept")
        self.accepted_at = at

    def check_in(self, at: datetime) -> None:
        self._move("check_in")
        self.checked_in_at = at

    def complete(self, at: datetime, summary: str, parts_used: list[dict]) -> None:
        self._move("complete")
        self.completed_at, self.summary, self.parts_used = at, summary, list(parts_used)
