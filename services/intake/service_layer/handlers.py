"""Intake's use cases. Each runs in one unit of work: state, outgoing events and the
processed event id commit together."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from aftersales.contracts.envelope import Envelope
from aftersales.contracts.events import RepairRequested
from aftersales.errors import InvalidInput, pydantic_errors
from aftersales.logs import mask_name, mask_phone

from ..domain import model

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    outcome: str          # opened | duplicate | rejected
    ticket_no: str | None = None
    errors: tuple = ()
    branch: str | None = None
    channel: str | None = None
    priority: str | None = None


def validate_request(body: dict, branches: dict) -> RepairRequested:
    """The phone-center schema plus intake's own rules; InvalidInput names every bad field."""
    errors = []
    try:
        req = RepairRequested.model_validate(body)
    except ValidationError as exc:
        errors = pydantic_errors(exc)
        req = None
    branch = body.get("branch") if isinstance(body, dict) else None
    if isinstance(branch, str) and branch and branch not in branches:
        errors.append({"field": "branch",
                       "message": f"unknown branch {branch!r}; known: {', '.join(sorted(branches))}"})
    if errors:
        raise InvalidInput(errors)
    return req


def receive_request(uow, body: dict, branches: dict) -> Outcome:
    """A repair request from any channel: validate, de-duplicate, classify, decide warranty,
    number the ticket and publish ``ticket_opened`` (or ``request_rejected``)."""
    with uow:
        try:
            req = validate_request(body, branches)
        except InvalidInput as exc:
            source = body.get("source") if isinstance(body.get("source"), str) else None
            request_id = body.get("request_id") if isinstance(body.get("request_id"), str) else None
            uow.tickets.add_rejection(source, request_id, exc.errors)
            uow.publish("request_rejected", {"request_id": request_id, "source": source,
                                             "errors": exc.errors},
                        branch=body.get("branch") if isinstance(body.get("branch"), str) else None)
            uow.commit()
            log.info("request %s from %s rejected: %s", request_id, source,
                     ", ".join(e["field"] for e in exc.errors))
            raise

        request = req.model_dump(mode="json")
        existing = uow.tickets.by_request(req.source, req.request_id)
        if existing:
            ticket = uow.tickets.get(existing)
            _publish_opened(uow, ticket["ticket_no"], ticket["branch"], ticket["request"],
                            ticket["priority"], ticket["category"],
                            {"status": ticket["warranty_status"],
                             "ends_on": ticket["warranty_ends_on"].isoformat() if ticket["warranty_ends_on"] else None},
                            duplicate=True)
            uow.commit()
            log.info("request %s from %s is a repeat of %s", req.request_id, req.source, existing)
            return Outcome("duplicate", existing, branch=req.branch, channel=req.channel,
                           priority=ticket["priority"])

        tz = ZoneInfo(branches[req.branch].get("timezone", "Asia/Shanghai"))
        local_day = req.received_at.astimezone(tz).date()
        seq = uow.tickets.next_sequence(req.branch, local_day)
        ticket_no = model.ticket_number(req.branch, local_day, seq)
        cls = model.classify(req.fault.description, req.fault.category, req.priority)
        warranty = model.warranty_for(uow.assets.get(req.asset.serial_no), local_day)
        ticket = model.Ticket(
            ticket_no=ticket_no, branch=req.branch, source=req.source, request_id=req.request_id,
            channel=req.channel, received_at=req.received_at, priority=cls.priority,
            category=cls.category, classification_rule=cls.rule, warranty=warranty,
            request=request)
        uow.tickets.add(ticket)
        env = _publish_opened(uow, ticket_no, req.branch, request, cls.priority, cls.category,
                              warranty.as_dict())
        uow.tickets.add_timeline(ticket_no, str(env.event_id), env.type, "intake",
                                 env.occurred_at, {"priority": cls.priority,
                                                   "category": cls.category,
                                                   "classified_by": cls.rule,
                                                   "warranty": warranty.as_dict()})
        uow.commit()
        log.info("opened %s for %s (%s) from %s/%s", ticket_no,
                 mask_name(req.customer.contact_name), mask_phone(req.customer.phone),
                 req.source, req.request_id)
        return Outcome("opened", ticket_no, branch=req.branch, channel=req.channel,
                       priority=cls.priority)


def _publish_opened(uow, ticket_no, branch, request, priority, category, warranty, duplicate=False):
    data = {
        "ticket_no": ticket_no, "request_id": request["request_id"], "source": request["source"],
        "channel": request["channel"], "received_at": request["received_at"],
        "priority": priority, "category": category,
        "needs_visit": model.needs_visit(category),
        "customer": request["customer"], "site": request["site"], "asset": request["asset"],
        "fault": request["fault"], "warranty": warranty, "duplicate": duplicate,
    }
    return uow.publish("ticket_opened", data, ticket_no=ticket_no, branch=branch)


TIMELINE_FIELDS = {
    "engineer_assigned": ("engineer_id", "engineer_name", "reason"),
    "assignment_failed": ("reason", "escalated_to"),
    "job_accepted": ("engineer_id", "accepted_at"),
    "engineer_checked_in": ("engineer_id", "checked_in_at"),
    "job_completed": ("engineer_id", "completed_at", "summary", "parts_used"),
    "parts_consumed": ("warehouse", "lines", "shortages"),
    "survey_issued": ("survey_id", "expires_at"),
}


def record_event(uow, env: Envelope) -> bool:
    """Add another service's event to its ticket's timeline (idempotent by ``event_id``,
    out-of-order safe: the status is recomputed from the whole timeline)."""
    with uow:
        if uow.seen(env.event_id):
            return False
        uow.record_processed(env.event_id, env.type)
        ticket = uow.tickets.get(env.ticket_no) if env.ticket_no else None
        if ticket is None:
            log.warning("event %s (%s) names unknown ticket %s; recorded as processed",
                        env.event_id, env.type, env.ticket_no)
            uow.commit()
            return False
        keep = TIMELINE_FIELDS.get(env.type, ())
        uow.tickets.add_timeline(env.ticket_no, str(env.event_id), env.type, env.source,
                                 env.occurred_at, {k: env.data.get(k) for k in keep})
        types = [e["type"] for e in uow.tickets.timeline(env.ticket_no)]
        uow.tickets.set_status(env.ticket_no, model.status_from(types))
        uow.commit()
        return True


def ticket_view(uow, ticket_no: str) -> dict | None:
    with uow:
        t = uow.tickets.get(ticket_no)
        if t is None:
            return None
        events = uow.tickets.timeline(ticket_no)
    req = t["request"]
    return {
        "ticket_no": t["ticket_no"], "branch": t["branch"], "status": t["status"],
        "priority": t["priority"], "category": t["category"],
        "classified_by": t["classification_rule"], "channel": t["channel"],
        "source": t["source"], "request_id": t["request_id"],
        "received_at": req["received_at"],
        "customer": req["customer"], "site": req["site"], "asset": req["asset"],
        "fault": req["fault"],
        "warranty": {"status": t["warranty_status"],
                     "ends_on": t["warranty_ends_on"].isoformat() if t["warranty_ends_on"] else None},
        "timeline": [{"type": e["type"], "source": e["source"],
                      "occurred_at": e["occurred_at"].isoformat(), "event_id": e["event_id"],
                      **{k: v for k, v in (e["data"] or {}).items()}} for e in events],
    }
