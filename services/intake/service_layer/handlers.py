"""Intake's use cases. Each runs in one unit of work: state, outgoing events, the ticket's
timeline and the processed event id commit together."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from aftersales.contracts.envelope import Envelope, utcnow
from aftersales.contracts.events import RepairRequested
from aftersales.errors import Conflict, InvalidInput, NotFound, PermanentError
from aftersales.logs import mask_name, mask_phone
from aftersales.reference import timezone_of

from ..domain import model
from .validation import answer_address, validate_request
from .views import warranty_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    outcome: str          # opened | duplicate | rejected
    ticket_no: str | None = None
    branch: str | None = None
    channel: str | None = None
    priority: str | None = None
    linked_to: str | None = None


class RequestIdTaken(Conflict, PermanentError):
    """The ``(source, request_id)`` already opened a ticket of ANOTHER branch: refused (HTTP 409;
    on the bus ``request_rejected`` and the message parked with this reason). It says nothing
    of the other branch's ticket."""

    def __init__(self, source: str, request_id: str):
        message = (f"{request_id!r} from source {source!r} was already used by another branch; "
                   "a request_id is unique per source: send this request with a new one")
        self.errors = [{"field": "request_id", "message": message}]
        super().__init__(f"request_id: {message}")


@dataclass(frozen=True)
class BranchPolicy:
    """A branch's intake settings from the reference data (branches.json, rules files)."""
    code: str
    timezone: str
    rules: tuple
    warranty_terms: dict

    @classmethod
    def load(cls, code: str, branch: dict, reference_dir: str | Path) -> "BranchPolicy":
        rules = model.DEFAULT_RULES
        path = Path(reference_dir) / "classification" / f"{code}.json"
        if path.exists():
            rules = model.rules_from(json.loads(path.read_text(encoding="utf-8"))) + model.DEFAULT_RULES
        return cls(code, branch.get("timezone", "Asia/Shanghai"), rules,
                   dict(branch.get("warranty_terms_months", {})))


def _publish_and_record(uow, type_: str, data: dict, ticket_no: str, branch: str) -> Envelope:
    """Publish one of intake's own events and put it on the ticket's timeline (same transaction)."""
    env = uow.publish(type_, data, ticket_no=ticket_no, branch=branch)
    uow.tickets.add_timeline(ticket_no, str(env.event_id), type_, "intake", env.occurred_at,
                             {k: v for k, v in env.data.items() if k != "ticket_no"})
    return env


def receive_request(uow, body: dict, branches: dict, policies: dict[str, BranchPolicy],
                    now: datetime | None = None,
                    max_age: timedelta = model.RECEIVED_MAX_AGE) -> Outcome:
    """A repair request from any channel: validate, de-duplicate, classify, decide warranty,
    number the ticket and publish ``ticket_opened`` (or ``request_rejected``). A request for an
    asset that already has an open ticket is linked to it (no second dispatch). ``now`` is the
    clock the request's times are checked against (``received_at`` window)."""
    with uow:
        try:
            req = validate_request(body, branches, now or utcnow(), max_age)
        except InvalidInput as exc:
            source, request_id, branch = answer_address(body, branches)
            uow.tickets.add_rejection(source, request_id, exc.errors)
            uow.publish("request_rejected", {"request_id": request_id, "source": source,
                                             "errors": exc.errors}, branch=branch)
            uow.commit()
            log.info("request %s from %s rejected: %s", request_id, source,
                     ", ".join(e["field"] for e in exc.errors))
            raise

        request = req.model_dump(mode="json")
        existing = uow.tickets.by_request(req.source, req.request_id)
        if existing:
            t = uow.tickets.get(existing)
            if t["branch"] != req.branch:
                raise _refused_for_another_branch(uow, req)
            _publish_opened(uow, t, duplicate=True)
            uow.commit()
            log.info("request %s from %s is a repeat of %s", req.request_id, req.source, existing)
            return Outcome("duplicate", existing, req.branch, req.channel, t["priority"], t["linked_to"])

        policy = policies[req.branch]
        local_day = req.received_at.astimezone(ZoneInfo(policy.timezone)).date()
        ticket_no = model.ticket_number(req.branch, local_day,
                                        uow.tickets.next_sequence(req.branch, local_day))
        cls = model.classify(req.fault.description, req.fault.category, req.priority, policy.rules)
        warranty = model.warranty_for(uow.assets.get(req.asset.serial_no), local_day,
                                      policy.warranty_terms)
        linked_to = None
        if req.asset.serial_no:
            linked_to = uow.tickets.open_for_serial(req.asset.serial_no, req.branch,
                                                    model.FINAL_STATUSES)
        ticket = model.Ticket(
            ticket_no=ticket_no, branch=req.branch, source=req.source, request_id=req.request_id,
            channel=req.channel, received_at=req.received_at, priority=cls.priority,
            category=cls.category, classification_rule=cls.rule, warranty=warranty,
            request=request, status="linked" if linked_to else "open",
            intake_state="linked" if linked_to else "open", linked_to=linked_to)
        uow.tickets.add(ticket)
        env = _publish_opened(uow, uow.tickets.get(ticket_no))
        uow.tickets.add_timeline(ticket_no, str(env.event_id), env.type, "intake",
                                 env.occurred_at, {"priority": cls.priority,
                                                   "category": cls.category,
                                                   "classified_by": cls.rule,
                                                   "warranty": warranty.as_dict(),
                                                   "linked_to": linked_to})
        if linked_to:
            _publish_and_record(uow, "ticket_linked", {"ticket_no": linked_to,
                                                       "linked_ticket_no": ticket_no,
                                                       "serial_no": req.asset.serial_no},
                                linked_to, req.branch)
        uow.commit()
        log.info("opened %s%s for %s (%s) from %s/%s", ticket_no,
                 f" linked to {linked_to}" if linked_to else "",
                 mask_name(req.customer.contact_name), mask_phone(req.customer.phone),
                 req.source, req.request_id)
        return Outcome("opened", ticket_no, req.branch, req.channel, cls.priority, linked_to)


def _refused_for_another_branch(uow, req: RepairRequested) -> RequestIdTaken:
    """Idempotency never crosses branches: the key stays ``(source, request_id)`` (PRODUCT.md),
    and a repeat of it from another branch is refused, never answered with that ticket. Records
    and publishes the rejection (committed), and returns the error to raise."""
    exc = RequestIdTaken(req.source, req.request_id)
    uow.tickets.add_rejection(req.source, req.request_id, exc.errors)
    uow.publish("request_rejected", {"request_id": req.request_id, "source": req.source,
                                     "errors": exc.errors}, branch=req.branch)
    uow.commit()
    log.info("request %s from %s (%s) refused: its request_id belongs to another branch",
             req.request_id, req.source, req.branch)
    return exc


def _publish_opened(uow, t: dict, duplicate=False, split_from=None):
    request = t["request"]
    linked = t["intake_state"] == "linked"
    data = {
        "ticket_no": t["ticket_no"], "request_id": t["request_id"], "source": t["source"],
        "channel": t["channel"], "received_at": request["received_at"],
        "priority": t["priority"], "category": t["category"],
        "needs_visit": model.needs_visit(t["category"]) and not linked,
        "customer": request["customer"], "site": request["site"], "asset": request["asset"],
        "fault": request["fault"],
        "warranty": warranty_of(t),
        "duplicate": duplicate, "linked_to": t["linked_to"], "split_from": split_from,
    }
    return uow.publish("ticket_opened", data, ticket_no=t["ticket_no"], branch=t["branch"])


# -- agents' actions -----------------------------------------------------------------------------
def _ticket_for_action(uow, ticket_no: str, principal) -> dict:
    t = uow.tickets.lock(ticket_no)
    if t is None or not principal.can_access(t["branch"]):
        raise NotFound(f"no ticket {ticket_no}")
    return t


def _guard(check, *args) -> None:
    try:
        check(*args)
    except model.TransitionError as exc:
        raise Conflict(str(exc)) from None


def _refresh_status(uow, ticket_no: str, intake_state: str) -> str:
    """Derive the status from the whole timeline (the job's latest state by ``occurred_at``).
    The caller holds the ticket's row lock."""
    events = [(e["occurred_at"], e["type"]) for e in uow.tickets.timeline(ticket_no)]
    status = model.status_of(intake_state, events)
    uow.tickets.update(ticket_no, status=status, intake_state=intake_state)
    return status


def record_contact(uow, ticket_no: str, principal, channel: str = "phone",
                   note: str | None = None, at: datetime | None = None) -> dict:
    with uow:
        t = _ticket_for_action(uow, ticket_no, principal)
        _guard(model.check_contact, t["status"])
        at = at or utcnow()
        env = _publish_and_record(uow, "customer_contacted", {
            "ticket_no": ticket_no, "contacted_at": at.isoformat(), "by": principal.actor,
            "channel": channel, "note": note}, ticket_no, t["branch"])
        first = t["first_contact_at"] is None
        if first:
            uow.tickets.update(ticket_no, first_contact_at=at)
        uow.commit()
        return {"ticket_no": ticket_no, "first_contact": first, "event_id": str(env.event_id)}


def reclassify(uow, ticket_no: str, principal, *, priority: str | None, category: str | None,
               reason: str) -> dict:
    with uow:
        t = _ticket_for_action(uow, ticket_no, principal)
        _guard(model.check_reclassify, t["status"])
        new_p, new_c = priority or t["priority"], category or t["category"]
        if (new_p, new_c) == (t["priority"], t["category"]):
            raise Conflict("nothing changes: the ticket already has this priority and category")
        _publish_and_record(uow, "ticket_reclassified", {
            "ticket_no": ticket_no, "priority": new_p, "category": new_c,
            "previous_priority": t["priority"], "previous_category": t["category"],
            "needs_visit": model.needs_visit(new_c) and t["intake_state"] != "linked",
            "reason": reason, "by": principal.actor}, ticket_no, t["branch"])
        uow.tickets.update(ticket_no, priority=new_p, category=new_c,
                           classification_rule=f"agent:{principal.actor}")
        uow.commit()
        return {"ticket_no": ticket_no, "priority": new_p, "category": new_c}


def resolve_remotely(uow, ticket_no: str, principal, resolution: str) -> dict:
    with uow:
        t = _ticket_for_action(uow, ticket_no, principal)
        _guard(model.check_resolve, t["status"])
        _publish_and_record(uow, "ticket_resolved", {
            "ticket_no": ticket_no, "resolved_at": utcnow().isoformat(), "resolution": resolution,
            "by": principal.actor}, ticket_no, t["branch"])
        status = _refresh_status(uow, ticket_no, "resolved")
        uow.commit()
        return {"ticket_no": ticket_no, "status": status}


def cancel(uow, ticket_no: str, principal, reason: str) -> dict:
    with uow:
        t = _ticket_for_action(uow, ticket_no, principal)
        _guard(model.check_cancel, t["status"])
        _publish_and_record(uow, "ticket_cancelled", {
            "ticket_no": ticket_no, "cancelled_at": utcnow().isoformat(), "reason": reason,
            "by": principal.actor}, ticket_no, t["branch"])
        status = _refresh_status(uow, ticket_no, "cancelled")
        uow.commit()
        return {"ticket_no": ticket_no, "status": status}


def split(uow, ticket_no: str, principal, reason: str) -> dict:
    """An agent decides a linked request is a separate problem: it gets its own dispatch."""
    with uow:
        t = _ticket_for_action(uow, ticket_no, principal)
        _guard(model.check_split, t["intake_state"])
        was_linked_to = t["linked_to"]
        uow.tickets.update(ticket_no, intake_state="open", linked_to=None)
        env = _publish_opened(uow, uow.tickets.get(ticket_no), split_from=was_linked_to)
        uow.tickets.add_timeline(ticket_no, str(env.event_id), "ticket_split", "intake",
                                 env.occurred_at, {"reason": reason, "by": principal.actor})
        status = _refresh_status(uow, ticket_no, "open")
        uow.commit()
        return {"ticket_no": ticket_no, "status": status}


# -- the read model: other services' events ------------------------------------------------------
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
    """Add another service's event to its ticket's timeline (idempotent by ``event_id``,
    out-of-order safe: the status is recomputed from the whole timeline, ordered by when the
    events occurred). The ticket's row is locked first, so an agent's action committed
    meanwhile is read, not overwritten."""
    with uow:
        if uow.seen(env.event_id):
            return False
        uow.record_processed(env.event_id, env.type)
        ticket = uow.tickets.lock(env.ticket_no) if env.ticket_no else None
        if ticket is None:
            log.warning("event %s (%s) names unknown ticket %s; recorded as processed",
                        env.event_id, env.type, env.ticket_no)
            uow.commit()
            return False
        keep = TIMELINE_FIELDS.get(env.type)
        detail = dict(env.data) if keep is None else {k: env.data.get(k) for k in keep}
        uow.tickets.add_timeline(env.ticket_no, str(env.event_id), env.type, env.source,
                                 env.occurred_at, detail)
        if env.type == "parts_consumed":
            _register_replaced_parts(uow, env, ticket)
        _refresh_status(uow, env.ticket_no, ticket["intake_state"])
        uow.commit()
        return True


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
