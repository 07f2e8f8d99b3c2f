"""The SLA clock of one ticket and stage as dispatch stores it, and what happens to it:
opened with the ticket, recomputed after a pause or a priority change, raised at risk and
breached by the timer, completed (met or breached) when the stage's event arrives, stopped
when the ticket is cancelled or resolved without a visit.

Pure: the service layer loads and saves these and turns the returned facts into events
and metrics.

Stages complete on (see docs/sla.md):
- response:   ``customer_contacted`` (intake) or ``appointment_set`` (the engineer agreed a
              time with the customer), whichever comes first;
- dispatch:   ``job_accepted`` (an engineer is assigned and has accepted);
- arrival:    the first ``engineer_checked_in``;
- resolution: the customer's sign-off that accepts the work (a rejected one reopens the work;
              the clock keeps running).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .policy import Policy
from .sla import ALWAYS, STAGES, add_clock_time, clock_seconds

OPEN, MET, BREACHED, STOPPED = "open", "met", "breached", "stopped"
CLOCK_STATES = (OPEN, MET, BREACHED, STOPPED)
SUPERVISOR_LEVEL, GM_LEVEL = "supervisor", "general_manager"

Pauses = list[tuple[datetime, datetime | None]]


@dataclass
class StageClock:
    ticket_no: str
    stage: str
    branch: str
    priority: str
    received_at: datetime
    target_seconds: float
    working: bool
    due_at: datetime | None            # None while an open-ended pause stops the clock
    at_risk_at: datetime | None
    status: str = OPEN
    at_risk_raised_at: datetime | None = None   # sla_at_risk published (once)
    breached_at: datetime | None = None         # sla_breached published (once)
    escalation_level: str | None = None
    escalated_to: str | None = None
    completed_at: datetime | None = None
    elapsed_seconds: float | None = None

    @property
    def is_open(self) -> bool:
        return self.status == OPEN


def _compute(received_at: datetime, priority: str, stage: str, policy: Policy, pauses: Pauses):
    t = policy.target(priority, stage)
    cal = policy.calendar if t.working else ALWAYS
    secs = t.clock_seconds(policy.calendar)
    return (secs, t.working, add_clock_time(received_at, secs, cal, pauses),
            add_clock_time(received_at, secs * policy.at_risk_fraction, cal, pauses))


def open_clocks(ticket_no: str, branch: str, priority: str, received_at: datetime,
                policy: Policy, pauses: Pauses = ()) -> list[StageClock]:
    """One clock per stage, each measured from ``received_at``."""
    out = []
    for stage in STAGES:
        secs, working, due, risk = _compute(received_at, priority, stage, policy, list(pauses))
        out.append(StageClock(ticket_no, stage, branch, priority, received_at, secs, working,
                              due, risk))
    return out


def recompute(clock: StageClock, priority: str, policy: Policy, pauses: Pauses) -> bool:
    """New deadlines for an open clock after a priority change or a pause (always from
    ``received_at``). True when anything changed. A raised at-risk or breach stays raised:
    each is published and counted once per stage."""
    if not clock.is_open:
        return False
    secs, working, due, risk = _compute(clock.received_at, priority, clock.stage, policy,
                                        list(pauses))
    before = (clock.priority, clock.target_seconds, clock.working, clock.due_at, clock.at_risk_at)
    clock.priority, clock.target_seconds, clock.working = priority, secs, working
    clock.due_at, clock.at_risk_at = due, risk
    return before != (priority, secs, working, due, risk)


@dataclass(frozen=True)
class Escalation:
    level: str
    to: str


def escalation(priority: str, supervisor_id: str | None, general_manager_id: str) -> Escalation:
    """Breaches go to the branch supervisor for B and C, to the general manager for A (and to
    the general manager when the branch has no supervisor)."""
    if priority == "A" or not supervisor_id:
        return Escalation(GM_LEVEL, general_manager_id)
    return Escalation(SUPERVISOR_LEVEL, supervisor_id)


def due_actions(clock: StageClock, now: datetime) -> list[str]:
    """What the timer must raise now for an open clock: ``breach`` when the deadline has
    passed and none was raised, else ``at_risk`` when the at-risk mark has passed and none was
    raised. A clock found past its deadline without an at-risk raised only breaches."""
    if not clock.is_open:
        return []
    if clock.due_at is not None and now >= clock.due_at and clock.breached_at is None:
        return ["breach"]
    if (clock.at_risk_at is not None and clock.due_at is not None and now >= clock.at_risk_at
            and clock.at_risk_raised_at is None and clock.breached_at is None):
        return ["at_risk"]
    return []


def raise_at_risk(clock: StageClock, now: datetime) -> None:
    clock.at_risk_raised_at = now


def raise_breach(clock: StageClock, now: datetime, esc: Escalation) -> None:
    clock.breached_at = now
    clock.escalation_level, clock.escalated_to = esc.level, esc.to


@dataclass(frozen=True)
class Completion:
    met: bool
    elapsed_seconds: float
    newly_breached: bool     # late, and the timer had not raised the breach yet


def complete(clock: StageClock, at: datetime, policy: Policy, pauses: Pauses) -> Completion | None:
    """Close an open clock at ``at``: met when at or before the deadline. ``elapsed_seconds``
    is running clock time (working time on a working-hours clock, pauses excluded). None when
    the clock was not open (a repeat: nothing to record)."""
    if not clock.is_open:
        return None
    cal = policy.calendar if clock.working else ALWAYS
    elapsed = clock_seconds(clock.received_at, at, cal, list(pauses))
    late = clock.breached_at is not None or (clock.due_at is not None and at > clock.due_at)
    newly = late and clock.breached_at is None
    clock.status = BREACHED if late else MET
    clock.completed_at, clock.elapsed_seconds = at, elapsed
    return Completion(not late, elapsed, newly)


def stop(clock: StageClock, at: datetime) -> bool:
    """Cancelled or resolved without a visit: the open clock stops, neither met nor breached
    (a breach already raised stays counted)."""
    if not clock.is_open:
        return False
    clock.status, clock.completed_at = STOPPED, at
    return True


def board_state(clock: StageClock, now: datetime, paused: bool = False) -> str:
    """For the board: met | breached | stopped, or for an open clock running | at_risk |
    overdue (past the deadline, not completed) | paused (the ticket waits on the customer:
    never at risk or overdue while it waits, even when a mark was reached before the pause)."""
    if not clock.is_open:
        return clock.status
    if paused or clock.due_at is None:
        return "paused"
    if now >= clock.due_at:
        return "overdue"
    if clock.at_risk_at is not None and now >= clock.at_risk_at:
        return "at_risk"
    return "running"
