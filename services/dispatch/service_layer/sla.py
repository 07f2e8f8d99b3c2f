"""SLA use cases: open the clocks, complete a stage, recompute after a priority change or a
pause, stop them, and the timer's scan that raises at-risk and breaches exactly once.

Functions named ``*_in`` are called by other handlers (the job's steps, the opening, the
ending) so the job's state, the clocks and every event commit together; the others are the
bus's handlers of ``customer_contacted`` and of the pause, resume and timer commands. All run
in the unit of work the bus opened. Metric increments are queued on ``uow.after_commit``: counters move only once the transaction
has committed.
"""
from __future__ import annotations

import logging
from datetime import datetime

from aftersales import metrics
from aftersales.auth import Principal
from aftersales.contracts.envelope import Envelope, utcnow
from aftersales.contracts.events import CustomerContactedV1, TicketReclassifiedV1
from aftersales.errors import Conflict, InvalidInput, NotFound

from ..domain import clocks as ck
from ..domain import roster
from . import commands
from .assigning import lock_roster
from .views import clocks_view

log = logging.getLogger(__name__)

PAUSE_ROLES = ("engineer", "dispatcher", "agent", "manager")


def _closed_at(pauses, at: datetime):
    """Pauses with an open one ended at ``at`` (a stage completing ends the waiting)."""
    return [(a, b if b is not None else max(a, at)) for a, b in pauses]


# -- opening ---------------------------------------------------------------------------------
def open_clocks_in(uow, policies, ticket_no: str, branch: str, priority: str,
                   received_at: datetime) -> list[ck.StageClock]:
    if uow.sla.of_ticket(ticket_no):
        return []
    policy = policies.for_branch(branch)
    clocks = ck.open_clocks(ticket_no, branch, priority, received_at, policy)
    uow.sla.add_all(clocks, f"opened: priority {priority}")
    return clocks


# -- completing -------------------------------------------------------------------------------
def _supervisor(uow, branch: str) -> str | None:
    sup = roster.supervisor_of(uow.engineers.of_branch(branch))
    return sup.engineer_id if sup else None


def _escalate(uow, policies, clock: ck.StageClock, now: datetime) -> None:
    esc = ck.escalation(clock.priority, _supervisor(uow, clock.branch), policies.general_manager)
    ck.raise_breach(clock, now, esc)


def _publish_breach(uow, clock: ck.StageClock) -> None:
    uow.publish("sla_breached", {
        "ticket_no": clock.ticket_no, "stage": clock.stage, "priority": clock.priority,
        "deadline": clock.due_at or clock.breached_at, "breached_at": clock.breached_at,
        "escalation_level": clock.escalation_level, "escalated_to": clock.escalated_to},
        ticket_no=clock.ticket_no, branch=clock.branch)
    labels = (clock.stage, clock.priority, clock.branch)
    uow.after_commit.append(lambda: metrics.sla_breached_total.labels(*labels).inc())


def complete_stage_in(uow, policies, ticket_no: str, stage: str, at: datetime) -> ck.Completion | None:
    """Complete the ticket's open ``stage`` clock at ``at`` (nothing if it is not open):
    record met/breached, publish ``sla_stage_completed`` (and ``sla_breached`` when it was late
    and the timer had not raised it yet), observe the duration, count met or breached once."""
    for _attempt in range(3):
        clock = uow.sla.of_ticket(ticket_no, lock=True).get(stage)
        if clock is None or not clock.is_open:
            return None
        before = ck.StageClock(**vars(clock))
        policy = policies.for_branch(clock.branch)
        pauses = _closed_at(uow.sla.pauses(ticket_no), at)
        ck.recompute(clock, clock.priority, policy, pauses)
        done = ck.complete(clock, at, policy, pauses)
        if done.newly_breached:
            _escalate(uow, policies, clock, at)
        # compare-and-set: the timer may have raised this stage meanwhile (SQLite takes no
        # row locks); then read it again and decide on what it wrote
        if uow.sla.save(clock, expect=before):
            break
    else:
        raise Conflict(f"the {stage} clock of {ticket_no} kept changing; try again")
    if done.newly_breached:
        _publish_breach(uow, clock)
    uow.publish("sla_stage_completed", {
        "ticket_no": ticket_no, "stage": stage, "priority": clock.priority,
        "deadline": clock.due_at or at, "completed_at": at,
        "elapsed_seconds": done.elapsed_seconds, "target_seconds": clock.target_seconds,
        "met": done.met}, ticket_no=ticket_no, branch=clock.branch)
    labels = (stage, clock.priority, clock.branch)

    def count():
        metrics.sla_stage_seconds.labels(*labels).observe(done.elapsed_seconds)
        if done.met:
            metrics.sla_met_total.labels(*labels).inc()
    uow.after_commit.append(count)
    log.info("%s: SLA %s %s", ticket_no, stage, "met" if done.met else "breached")
    return done


# -- recomputing ------------------------------------------------------------------------------
def recompute_in(uow, policies, ticket_no: str, priority: str | None, reason: str) -> int:
    """New deadlines for the ticket's open clocks (priority change, pause, resume); each
    changed clock appends to the history. Returns the number changed."""
    clocks = uow.sla.of_ticket(ticket_no, lock=True)
    pauses = uow.sla.pauses(ticket_no)
    changed = 0
    for clock in clocks.values():
        policy = policies.for_branch(clock.branch)
        if ck.recompute(clock, priority or clock.priority, policy, pauses):
            uow.sla.save(clock)
            uow.sla.record_history(clock, reason)
            changed += 1
    return changed


def stop_in(uow, ticket_no: str, at: datetime) -> int:
    n = 0
    for clock in uow.sla.of_ticket(ticket_no, lock=True).values():
        if ck.stop(clock, at):
            uow.sla.save(clock)
            n += 1
    return n


# -- consumed events -----------------------------------------------------------------------
def on_customer_contacted(uow, env: Envelope, policies) -> None:
    """``customer_contacted``: the first human contact completes the response stage (kept as
    an early event when the ticket's job is not open yet, and applied when it opens)."""
    data = CustomerContactedV1.model_validate(env.data)
    lock_roster(uow, env.branch)   # as the opening does: sees the job, or is kept early
    if uow.jobs.get(data.ticket_no) is None:
        uow.jobs.add_early(data.ticket_no, env.type, data.contacted_at, env.data)
    else:
        complete_stage_in(uow, policies, data.ticket_no, "response", data.contacted_at)


def reclassify_in(uow, policies, data: TicketReclassifiedV1) -> None:
    """A reclassification of a ticket with a job (``opening.on_reclassified``): the job takes
    the new priority and category; a priority change recomputes every open deadline."""
    job = uow.jobs.get(data.ticket_no, lock=True)
    if job is not None and (job.priority, job.category) != (data.priority, data.category):
        job.priority, job.category = data.priority, data.category
        uow.jobs.save(job)
    if data.priority != data.previous_priority:
        n = recompute_in(uow, policies, data.ticket_no, data.priority,
                         f"priority {data.previous_priority} → {data.priority}: {data.reason}")
        log.info("%s: priority %s → %s, %d deadline(s) recomputed", data.ticket_no,
                 data.previous_priority, data.priority, n)


def apply_early_in(uow, policies, ticket_no: str, early) -> None:
    """Apply what arrived before the job opened, in order: priority changes, first contact."""
    for type_, at, data in early:
        if type_ == "ticket_reclassified":
            reclassify_in(uow, policies, TicketReclassifiedV1.model_validate(data))
        elif type_ == "customer_contacted":
            complete_stage_in(uow, policies, ticket_no, "response", at)


# -- waiting on the customer ------------------------------------------------------------------
def pause(uow, cmd: commands.WaitOnCustomer, policies) -> dict:
    """The ticket waits on the customer (unreachable, site not accessible): the clocks stop
    until ``resume``. Waiting for parts is not a reason (it does not pause)."""
    principal, ticket_no = cmd.principal, cmd.ticket_no
    principal.require_role(*PAUSE_ROLES)
    reason = str(cmd.body.get("reason") or "").strip()
    if not reason:
        raise InvalidInput([{"field": "reason", "message": "say why the ticket waits on the customer"}])
    if "备件" in reason or "parts" in reason.lower():
        raise InvalidInput([{"field": "reason",
                             "message": "waiting for parts does not pause the SLA clock"}])
    now = cmd.now or utcnow()
    _lock_job(uow, principal, ticket_no)
    if uow.sla.open_pause(ticket_no):
        raise Conflict(f"{ticket_no} is already waiting on the customer")
    uow.sla.start_pause(ticket_no, now, reason[:2000], principal.actor)
    recompute_in(uow, policies, ticket_no, None, f"paused: {reason[:200]}")
    return clocks_view(uow, ticket_no, now)


def resume(uow, cmd: commands.Resume, policies) -> dict:
    principal, ticket_no = cmd.principal, cmd.ticket_no
    principal.require_role(*PAUSE_ROLES)
    now = cmd.now or utcnow()
    _lock_job(uow, principal, ticket_no)
    if not uow.sla.open_pause(ticket_no):
        raise Conflict(f"{ticket_no} is not waiting on the customer")
    uow.sla.end_pause(ticket_no, now)
    recompute_in(uow, policies, ticket_no, None, "resumed")
    return clocks_view(uow, ticket_no, now)


def _lock_job(uow, principal: Principal, ticket_no: str) -> None:
    """Lock the ticket's job (404 unless the key may act on its branch)."""
    job = uow.jobs.get(ticket_no, lock=True)
    if job is None or not principal.can_access(job.branch):
        raise NotFound(f"no job {ticket_no}")


# -- the timer ------------------------------------------------------------------------------
def raise_due(uow, cmd: commands.RaiseDueSla, policies) -> int:
    """Raise every due at-risk and breach, at most ``cmd.limit`` (exactly once per stage: the
    flag is written with a compare-and-set in the same transaction as the outbox row).
    Returns events raised."""
    now = cmd.now or utcnow()
    raised = 0
    for clock in uow.sla.due(now, cmd.limit):
        before = ck.StageClock(**vars(clock))
        actions = ck.due_actions(clock, now)
        if not actions:
            continue
        if actions == ["breach"]:
            _escalate(uow, policies, clock, now)
        else:
            ck.raise_at_risk(clock, now)
        if not uow.sla.save(clock, expect=before):
            continue      # completed or raised meanwhile: the next scan sees the new row
        if actions == ["breach"]:
            _publish_breach(uow, clock)
        else:
            uow.publish("sla_at_risk", {
                "ticket_no": clock.ticket_no, "stage": clock.stage,
                "priority": clock.priority, "deadline": clock.due_at,
                "at_risk_at": clock.at_risk_at}, ticket_no=clock.ticket_no,
                branch=clock.branch)
        raised += 1
    if raised:
        log.info("SLA timer raised %d event(s)", raised)
    return raised


