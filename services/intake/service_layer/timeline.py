"""The ticket's timeline: a read model of every service's events about the ticket, and the
ticket's ``status`` derived from it.

Two states are kept on a ticket:

- ``intake_state`` — what the service desk decided (``open``, ``linked``, ``resolved``,
  ``cancelled``; :data:`~services.intake.domain.model.INTAKE_STATES`), changed only by intake's
  own commands;
- ``status`` — the ticket's overall state that customers and agents see, derived from the
  ``intake_state`` and the job's latest state on the timeline
  (:func:`~services.intake.domain.model.status_of`), recomputed whenever either changes.
"""
from __future__ import annotations

import logging

from aftersales.contracts.envelope import Envelope
from aftersales.reference import timezone_of

from ..domain import model

log = logging.getLogger(__name__)

# What the timeline keeps of an event's data; a type not listed keeps all of it.
TIMELINE_FIELDS = {
    "engineer_assigned": ("engineer_id", "engineer_name", "reason"),
    "assignment_failed": ("reason", "escalated_to"),
    "job_accepted": ("engineer_id", "accepted_at"),
    "engineer_checked_in": ("engineer_id", "checked_in_at"),
    "job_completed": ("engineer_id", "completed_at", "summary", "parts_used"),
    "parts_consumed": ("warehouse", "lines", "shortages"),
    "survey_issued": ("survey_id", "expires_at"),
    "survey_answered": ("survey_id", "overall", "recommend", "follow_up_required"),
}


def record_event(uow, env: Envelope) -> bool:
    """Another service's event about a ticket, onto the ticket's timeline (the bus records the
    ``event_id`` in the inbox, so a redelivery is not added twice). Out-of-order safe: the
    status is derived again from the whole timeline, ordered by when the events occurred. The
    ticket's row is locked first, so a desk decision committed meanwhile is read, not
    overwritten. An event naming an unknown ticket is only recorded as processed."""
    ticket = uow.tickets.lock(env.ticket_no) if env.ticket_no else None
    if ticket is None:
        log.warning("event %s (%s) names unknown ticket %s; recorded as processed",
                    env.event_id, env.type, env.ticket_no)
        return False
    keep = TIMELINE_FIELDS.get(env.type)
    detail = dict(env.data) if keep is None else {k: env.data.get(k) for k in keep}
    uow.tickets.add_timeline(env.ticket_no, str(env.event_id), env.type, env.source,
                             env.occurred_at, detail)
    if env.type == "parts_consumed":
        _register_replaced_parts(uow, env, ticket)
    derive_status(uow, env.ticket_no, ticket["intake_state"])
    return True


def publish_and_record(uow, type_: str, data: dict, ticket_no: str, branch: str) -> Envelope:
    """Publish one of intake's own events and put it on the ticket's timeline (one
    transaction)."""
    env = uow.publish(type_, data, ticket_no=ticket_no, branch=branch)
    uow.tickets.add_timeline(ticket_no, str(env.event_id), type_, "intake", env.occurred_at,
                             {k: v for k, v in env.data.items() if k != "ticket_no"})
    return env


def derive_status(uow, ticket_no: str, intake_state: str) -> str:
    """Store the desk's ``intake_state`` and the ``status`` derived from it and the job's latest
    state on the whole timeline (by ``occurred_at``). The caller holds the ticket's row lock."""
    events = [(e["occurred_at"], e["type"]) for e in uow.tickets.timeline(ticket_no)]
    status = model.status_of(intake_state, events)
    uow.tickets.update(ticket_no, status=status, intake_state=intake_state)
    return status


def _register_replaced_parts(uow, env: Envelope, ticket: dict) -> None:
    """A part fitted under service carries its own warranty from the day it was fitted (the
    branch-local date)."""
    fitted_on = model.replaced_part_starts_on(env.occurred_at, timezone_of(ticket["branch"]))
    for line in env.data.get("lines", []):
        if line.get("serial_no"):
            uow.assets.upsert(model.AssetRecord(
                serial_no=line["serial_no"], model=line["sku"], component_category="replaced_part",
                acceptance_date=fitted_on, branch=ticket["branch"],
                customer=ticket["request"]["customer"]["name"],
                site=ticket["request"]["site"]["address"], project=ticket["ticket_no"]))
