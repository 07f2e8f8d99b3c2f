"""The service desk: agents' actions on a ticket (contact, reclassify, resolve remotely,
cancel, split a linked request off). Each locks the ticket's row, checks the action against the
ticket's state, publishes its event and puts it on the timeline.

Resolving and cancelling are desk decisions: they set the ticket's ``intake_state``, and its
``status`` is derived again from it and the job's latest state
(:func:`~.timeline.derive_status`)."""
from __future__ import annotations

from aftersales.contracts.envelope import utcnow
from aftersales.errors import Conflict, NotFound

from ..domain import model
from .commands import Cancel, Reclassify, RecordContact, ResolveRemotely, Split
from .receiving import publish_opened
from .timeline import derive_status, publish_and_record


def _ticket_for_action(uow, ticket_no: str, principal) -> dict:
    """The ticket's row, locked; 404 for a ticket of a branch the key may not see."""
    t = uow.tickets.lock(ticket_no)
    if t is None or not principal.can_access(t["branch"]):
        raise NotFound(f"no ticket {ticket_no}")
    return t


def record_contact(uow, cmd: RecordContact) -> dict:
    t = _ticket_for_action(uow, cmd.ticket_no, cmd.principal)
    model.check_contact(t["status"])
    at = utcnow()
    env = publish_and_record(uow, "customer_contacted", {
        "ticket_no": cmd.ticket_no, "contacted_at": at.isoformat(), "by": cmd.principal.actor,
        "channel": cmd.channel, "note": cmd.note}, cmd.ticket_no, t["branch"])
    first = t["first_contact_at"] is None
    if first:
        uow.tickets.update(cmd.ticket_no, first_contact_at=at)
    return {"ticket_no": cmd.ticket_no, "first_contact": first, "event_id": str(env.event_id)}


def reclassify(uow, cmd: Reclassify) -> dict:
    t = _ticket_for_action(uow, cmd.ticket_no, cmd.principal)
    model.check_reclassify(t["status"])
    new_p, new_c = cmd.priority or t["priority"], cmd.category or t["category"]
    if (new_p, new_c) == (t["priority"], t["category"]):
        raise Conflict("nothing changes: the ticket already has this priority and category")
    publish_and_record(uow, "ticket_reclassified", {
        "ticket_no": cmd.ticket_no, "priority": new_p, "category": new_c,
        "previous_priority": t["priority"], "previous_category": t["category"],
        "needs_visit": model.needs_visit(new_c) and t["intake_state"] != "linked",
        "reason": cmd.reason, "by": cmd.principal.actor}, cmd.ticket_no, t["branch"])
    uow.tickets.update(cmd.ticket_no, priority=new_p, category=new_c,
                       classification_rule=f"agent:{cmd.principal.actor}")
    return {"ticket_no": cmd.ticket_no, "priority": new_p, "category": new_c}


def resolve_remotely(uow, cmd: ResolveRemotely) -> dict:
    t = _ticket_for_action(uow, cmd.ticket_no, cmd.principal)
    model.check_resolve(t["status"])
    publish_and_record(uow, "ticket_resolved", {
        "ticket_no": cmd.ticket_no, "resolved_at": utcnow().isoformat(),
        "resolution": cmd.resolution, "by": cmd.principal.actor}, cmd.ticket_no, t["branch"])
    return {"ticket_no": cmd.ticket_no,
            "status": derive_status(uow, cmd.ticket_no, "resolved")}


def cancel(uow, cmd: Cancel) -> dict:
    t = _ticket_for_action(uow, cmd.ticket_no, cmd.principal)
    model.check_cancel(t["status"])
    publish_and_record(uow, "ticket_cancelled", {
        "ticket_no": cmd.ticket_no, "cancelled_at": utcnow().isoformat(), "reason": cmd.reason,
        "by": cmd.principal.actor}, cmd.ticket_no, t["branch"])
    return {"ticket_no": cmd.ticket_no,
            "status": derive_status(uow, cmd.ticket_no, "cancelled")}


def split(uow, cmd: Split) -> dict:
    """A linked request is a separate problem after all: it gets its own dispatch (a new
    ``ticket_opened`` with ``split_from``), and its ``intake_state`` is ``open`` again."""
    t = _ticket_for_action(uow, cmd.ticket_no, cmd.principal)
    model.check_split(t["intake_state"])
    was_linked_to = t["linked_to"]
    uow.tickets.update(cmd.ticket_no, intake_state="open", linked_to=None)
    env = publish_opened(uow, uow.tickets.get(cmd.ticket_no), split_from=was_linked_to)
    uow.tickets.add_timeline(cmd.ticket_no, str(env.event_id), "ticket_split", "intake",
                             env.occurred_at, {"reason": cmd.reason, "by": cmd.principal.actor})
    return {"ticket_no": cmd.ticket_no, "status": derive_status(uow, cmd.ticket_no, "open")}
