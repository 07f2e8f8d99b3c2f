"""Opening a job: on ``ticket_opened`` for a ticket that needs a visit, or on
``ticket_reclassified`` of a ticket that needed none into a visit category (``training``
included). Exactly once per ticket, whatever order the events arrive in: every path takes the
branch's roster lock first (the lock order of ``assigning.py``), is idempotent by event id
(the bus's inbox) and opens nothing when the ticket already has a job."""
from __future__ import annotations

import logging

from aftersales.contracts.envelope import Envelope, utcnow
from aftersales.contracts.events import TicketOpenedV1, TicketReclassifiedV1
from aftersales.errors import PermanentError

from ..domain import model, roster, visits
from . import sla
from .assigning import decide, lock_roster, publish_decision

log = logging.getLogger(__name__)


def _kept(ticket: TicketOpenedV1, branch: str) -> visits.KeptTicket:
    return visits.KeptTicket(
        ticket_no=ticket.ticket_no, branch=branch, priority=ticket.priority,
        category=ticket.category, received_at=ticket.received_at,
        product_line=ticket.warranty.component_category, warranty_status=ticket.warranty.status,
        site=ticket.site.address[:200], linked_to=ticket.linked_to, flagged=ticket.needs_visit)


def _open_if_visit(uow, policies, kept: visits.KeptTicket, opened_event_id: str):
    """Inside the caller's unit of work, roster locked, no job yet: open the job when the
    ticket, as its early events leave it, needs a visit; otherwise keep the ticket for a later
    reclassification. Returns the assignment decision, or None."""
    early = uow.jobs.take_early(kept.ticket_no, keep=True)
    ended = visits.ended(early)
    if ended:
        uow.kept.forget(kept.ticket_no)
        log.info("%s: %s arrived before it needed a visit; no job", kept.ticket_no, ended)
        return None
    now_kept = kept.as_of(early)
    if not now_kept.needs_engineer:
        uow.kept.keep(now_kept, opened_event_id)
        log.info("%s: nothing to dispatch (category %s)", kept.ticket_no, now_kept.category)
        return None
    uow.kept.forget(kept.ticket_no)
    if early:   # applied now (the roster lock keeps new ones out: every writer takes it)
        uow.jobs.forget_early(kept.ticket_no)
    needs = roster.Needs(now_kept.category, kept.product_line)
    now = utcnow()
    decision = decide(uow, policies, kept.branch, kept.priority, needs, kept.site, now)
    job = model.Job.open(kept.ticket_no, kept.branch, kept.priority, needs, kept.received_at,
                         decision, now, in_warranty=kept.in_warranty, zone_hint=kept.site)
    uow.jobs.add(job, opened_event_id)
    uow.jobs.add_assignment(job.ticket_no, decision, now)
    publish_decision(uow, job, decision)
    sla.open_clocks_in(uow, policies, job.ticket_no, job.branch, job.priority, job.received_at)
    sla.apply_early_in(uow, policies, job.ticket_no, early)
    log.info("%s: %s", job.ticket_no, f"assigned to {job.engineer_id}" if decision.engineer
             else f"escalated to {decision.escalated_to}")   # ids only: the reason names people
    return decision


def on_ticket_opened(uow, env: Envelope, policies) -> roster.Assignment | None:
    """``ticket_opened``: open a job for a ticket that needs a visit, assign it (or escalate
    it) and start its SLA clocks; a ticket that needs none is kept for a reclassification.

    Ignores repeats (``duplicate: true``). Idempotent by ``event_id`` (the bus's inbox) and by
    ticket: a second ``ticket_opened`` for a ticket that already has a job changes nothing."""
    ticket = TicketOpenedV1.model_validate(env.data)
    if ticket.duplicate:
        log.info("%s: a repeat (duplicate); nothing to dispatch", ticket.ticket_no)
        return None
    if not env.branch:
        raise PermanentError(f"ticket_opened for {ticket.ticket_no} names no branch")
    lock_roster(uow, env.branch)
    if uow.jobs.get(ticket.ticket_no) is not None:
        log.info("%s already has a job; event %s changes nothing", ticket.ticket_no,
                 env.event_id)
        return None
    return _open_if_visit(uow, policies, _kept(ticket, env.branch), str(env.event_id))


def on_reclassified(uow, env: Envelope, policies) -> roster.Assignment | None:
    """``ticket_reclassified``: a job already open takes the new priority (every open deadline
    recomputed from ``received_at``; the history keeps the earlier ones) and category; a ticket
    kept without a visit opens its job when the new category needs one; before the ticket's
    ``ticket_opened`` the event is kept and applied at the opening."""
    data = TicketReclassifiedV1.model_validate(env.data)
    lock_roster(uow, env.branch)
    if uow.jobs.get(data.ticket_no) is not None:
        sla.reclassify_in(uow, policies, data)
        return None
    uow.jobs.add_early(data.ticket_no, env.type, env.occurred_at, env.data)
    kept = uow.kept.get(data.ticket_no, lock=True)
    if kept is None:
        return None
    # opened without a visit: may need one now
    return _open_if_visit(uow, policies, kept,
                          uow.kept.opened_event_id(data.ticket_no) or str(env.event_id))
