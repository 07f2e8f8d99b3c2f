"""Receiving repair requests: validate, de-duplicate, classify, decide the warranty, number the
ticket and answer with ``ticket_opened`` (or ``request_rejected``).

A request is idempotent on ``(source, request_id)`` (a unique key that never expires): a repeat
is answered with the same ticket and ``duplicate: true``; the same key from another branch is
refused, never answered with that branch's ticket.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aftersales import metrics
from aftersales.contracts.envelope import Envelope, utcnow
from aftersales.contracts.events import RepairRequested
from aftersales.errors import Conflict, InvalidInput, PermanentError
from aftersales.logs import mask_name, mask_phone

from ..domain import model
from .commands import ReceiveRequest
from .timeline import publish_and_record
from .validation import answer_address, validate_request
from .views import warranty_of

log = logging.getLogger(__name__)

RACE_TRIES = 3


class _Raced(Exception):
    """The request's ``(source, request_id)`` was taken between the look and the insert."""


@dataclass(frozen=True)
class Outcome:
    """What became of a request. A refused one (``rejected``) carries the error to raise once
    its ``request_rejected`` is committed: see :func:`settle`."""
    outcome: str          # opened | duplicate | rejected
    ticket_no: str | None = None
    branch: str | None = None
    channel: str | None = None
    priority: str | None = None
    linked_to: str | None = None
    refusal: Exception | None = field(default=None, compare=False)


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
        path = Path(reference_dir) / "classification" / f"{code}.json"
        return cls(code, branch.get("timezone", "Asia/Shanghai"), _rules(path),
                   dict(branch.get("warranty_terms_months", {})))


_RULES: dict[Path, tuple[tuple[int, int], tuple]] = {}   # path -> ((mtime_ns, size), rules)


def _rules(path: Path) -> tuple:
    """The branch's classification rules (then the defaults): parsed once, parsed again only
    when the file changes (one ``stat`` per request, so an edit counts from the next one)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        _RULES.pop(path, None)
        return model.DEFAULT_RULES
    stamp = (st.st_mtime_ns, st.st_size)
    hit = _RULES.get(path)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    rules = model.rules_from(json.loads(path.read_text(encoding="utf-8"))) + model.DEFAULT_RULES
    _RULES[path] = (stamp, rules)
    return rules


class BranchPolicies:
    """``policies[code]``: the branch's :class:`BranchPolicy`, read from the reference data when a
    request of the branch is received (so an edited rules file counts from the next request)."""

    def __init__(self, branches: dict, reference_dir: str | Path):
        self.branches, self.reference_dir = branches, reference_dir

    def __getitem__(self, code: str) -> BranchPolicy:
        return BranchPolicy.load(code, self.branches[code], self.reference_dir)


# -- the command ---------------------------------------------------------------------------------
def receive_request(uow, cmd: ReceiveRequest, branches: dict, policies,
                    received_max_age: timedelta = model.RECEIVED_MAX_AGE) -> Outcome:
    """A repair request from any channel. A request for an asset that already has an open ticket
    is linked to it (no second dispatch). A refused request's ``request_rejected`` commits with
    the outcome, which carries the error (:func:`settle` raises it after the commit).

    Two first deliveries of one request (two instances, two HTTP clients) race on the
    ``(source, request_id)`` key: the loser's insert does nothing (PostgreSQL waits for the
    winner's commit), it gives its number back and looks again, finding the winner's ticket
    (answered as the duplicate). Never a 500, never an aborted transaction."""
    try:
        req = validate_request(cmd.body, branches, utcnow(), received_max_age)
    except InvalidInput as exc:
        return _rejected(uow, cmd.body, branches, exc)
    for attempt in range(RACE_TRIES):
        existing = uow.tickets.by_request(req.source, req.request_id)
        if existing:
            return _answer_repeat(uow, req, existing)
        try:
            return _open_ticket(uow, req, policies[req.branch])
        except _Raced:
            if attempt == RACE_TRIES - 1:
                raise RuntimeError(f"request {req.request_id} from {req.source}: its key is "
                                   "taken but its ticket cannot be read") from None
            log.info("request %s from %s raced another delivery; looking again",
                     req.request_id, req.source)
    return None   # pragma: no cover (the last try returns or raises)


def settle(outcome: Outcome) -> Outcome:
    """After the commit: count the request (``aftersales_requests_total``) and raise a refused
    request's error (``InvalidInput`` naming every field, or :class:`RequestIdTaken`)."""
    if outcome.branch and outcome.channel in metrics.CHANNELS:
        metrics.requests_total.labels(outcome.branch, outcome.channel, outcome.outcome).inc()
    if outcome.refusal is not None:
        raise outcome.refusal
    return outcome


# -- the steps -----------------------------------------------------------------------------------
def _record_refusal(uow, source: str | None, request_id: str | None, branch: str | None,
                    errors: list[dict]) -> None:
    """The refusal kept (``rejections``) and answered (``request_rejected``, to the readable
    source and request_id)."""
    uow.tickets.add_rejection(source, request_id, errors)
    uow.publish("request_rejected", {"request_id": request_id, "source": source,
                                     "errors": errors}, branch=branch)


def _rejected(uow, body: dict, branches: dict, exc: InvalidInput) -> Outcome:
    source, request_id, branch = answer_address(body, branches)
    _record_refusal(uow, source, request_id, branch, exc.errors)
    log.info("request %s from %s rejected: %s", request_id, source,
             ", ".join(e["field"] for e in exc.errors))
    channel = body.get("channel")
    return Outcome("rejected", branch=branch,
                   channel=channel if isinstance(channel, str) else None, refusal=exc)


def _answer_repeat(uow, req: RepairRequested, existing: str) -> Outcome:
    t = uow.tickets.get(existing)
    if t["branch"] != req.branch:
        return _refused_for_another_branch(uow, req)
    publish_opened(uow, t, duplicate=True)
    log.info("request %s from %s is a repeat of %s", req.request_id, req.source, existing)
    return Outcome("duplicate", existing, req.branch, req.channel, t["priority"], t["linked_to"])


def _refused_for_another_branch(uow, req: RepairRequested) -> Outcome:
    """Idempotency never crosses branches: the key stays ``(source, request_id)`` (PRODUCT.md),
    and a repeat of it from another branch is refused, never answered with that ticket."""
    exc = RequestIdTaken(req.source, req.request_id)
    _record_refusal(uow, req.source, req.request_id, req.branch, exc.errors)
    log.info("request %s from %s (%s) refused: its request_id belongs to another branch",
             req.request_id, req.source, req.branch)
    return Outcome("rejected", branch=req.branch, channel=req.channel, refusal=exc)


def _open_ticket(uow, req: RepairRequested, policy: BranchPolicy) -> Outcome:
    local_day = req.received_at.astimezone(ZoneInfo(policy.timezone)).date()
    cls = model.classify(req.fault.description, req.fault.category, req.priority, policy.rules)
    warranty = model.warranty_for(uow.assets.get(req.asset.serial_no), local_day,
                                  policy.warranty_terms)
    linked_to = None
    if req.asset.serial_no:
        linked_to = uow.tickets.open_for_serial(req.asset.serial_no, req.branch,
                                                model.FINAL_STATUSES)
    desk = "linked" if linked_to else "open"   # a new ticket's intake_state, and so its status
    seq = uow.tickets.next_sequence(req.branch, local_day)   # locked until the commit
    ticket_no = model.ticket_number(req.branch, local_day, seq)
    row = uow.tickets.add(model.Ticket(
        ticket_no=ticket_no, branch=req.branch, source=req.source, request_id=req.request_id,
        channel=req.channel, received_at=req.received_at, priority=cls.priority,
        category=cls.category, classification_rule=cls.rule, warranty=warranty,
        request=req.model_dump(mode="json"), status=desk, intake_state=desk,
        linked_to=linked_to))
    if row is None:   # another delivery holds the (source, request_id): the number goes back
        uow.tickets.give_back_sequence(req.branch, local_day, seq)
        raise _Raced()
    env = publish_opened(uow, row)
    uow.tickets.add_timeline(ticket_no, str(env.event_id), env.type, "intake",
                             env.occurred_at, {"priority": cls.priority,
                                               "category": cls.category,
                                               "classified_by": cls.rule,
                                               "warranty": warranty.as_dict(),
                                               "linked_to": linked_to})
    if linked_to:
        publish_and_record(uow, "ticket_linked", {"ticket_no": linked_to,
                                                  "linked_ticket_no": ticket_no,
                                                  "serial_no": req.asset.serial_no},
                           linked_to, req.branch)
    log.info("opened %s%s for %s (%s) from %s/%s", ticket_no,
             f" linked to {linked_to}" if linked_to else "",
             mask_name(req.customer.contact_name), mask_phone(req.customer.phone),
             req.source, req.request_id)
    return Outcome("opened", ticket_no, req.branch, req.channel, cls.priority, linked_to)


def publish_opened(uow, t: dict, duplicate=False, split_from=None) -> Envelope:
    """``ticket_opened`` for the ticket row ``t``: a new ticket, the answer to a repeat
    (``duplicate``) or a linked ticket split off (``split_from``)."""
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
