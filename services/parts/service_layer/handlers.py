"""Parts' use cases. Each runs in one unit of work: ledger entries, state changes, outgoing
events and the processed event id commit together.

Every use case that moves stock first locks the SKUs it touches (``uow.catalogue.lock``: row
locks in SKU order on PostgreSQL, the write transaction on SQLite) and only then reads stock
positions, so two workers can never both take the last unit. Parts requests, transfers,
backorders and returns are locked after the SKUs (always in that order: no deadlocks).
"""
from __future__ import annotations

import csv
import io
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from aftersales.auth import Principal
from aftersales.contracts.envelope import Envelope, utcnow
from aftersales.contracts.events import JobCompletedV1, PartsRequestedV1
from aftersales.errors import Conflict, InvalidInput, NotFound, PermanentError

from ..domain import model, reports, requests as rq, returns as rma
from ..domain.model import LedgerEntry, Part, StockError, StockPosition
from . import warranty

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    branches: dict
    auto_approve_limit: Decimal = rq.DEFAULT_AUTO_APPROVE_LIMIT
    transfer_days: int = rq.DEFAULT_TRANSFER_DAYS


@dataclass
class Outcome:
    """What a use case returns: its view, and the backorders it raised (counted in metrics
    once committed)."""

    view: dict | None = None
    backorders: dict[str, int] = field(default_factory=dict)   # branch -> backorders raised


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12].upper()}"


def who(principal: Principal) -> str:
    return principal.actor   # the key's subject (a staff or system id)


def branch_for(principal: Principal, branch: str | None, branches: dict,
               field_name: str = "branch") -> str:
    """The branch a request acts on: ``branch`` (a branch key's own by default)."""
    if not branch:
        if principal.is_hq:
            raise InvalidInput([{"field": field_name, "message": "is required for an HQ key"}])
        branch = principal.branch
    if branch not in branches:
        raise InvalidInput([{"field": field_name, "message":
                             f"unknown branch {branch!r}; known: {', '.join(sorted(branches))}"}])
    principal.require_branch(branch)
    return branch


# -- the stock book: movements of one transaction ---------------------------------------------------
class StockBook:
    """Posts ledger entries checked against the invariants (``0 <= issued <= reserved <=
    on hand``) and, at the end, raises ``reorder_needed`` for every warehouse and SKU whose
    available stock crossed its reorder point. The SKUs must be locked before use."""

    def __init__(self, uow, now: datetime):
        self.uow = uow
        self.now = now
        self._positions: dict[tuple[str, str], StockPosition] = {}
        self._touched: list[tuple[str, str]] = []

    def position(self, warehouse: str, sku: str) -> StockPosition:
        key = (warehouse, sku)
        if key not in self._positions:
            self._positions[key] = self.uow.ledger.position(warehouse, sku)
        return self._positions[key]

    def available(self, warehouse: str, skus) -> dict[str, int]:
        return {sku: self.position(warehouse, sku).available for sku in skus}

    def touch(self, warehouse: str, sku: str) -> None:
        """Check this pair's reorder point at the end even though nothing moved."""
        self.position(warehouse, sku)
        if (warehouse, sku) not in self._touched:
            self._touched.append((warehouse, sku))

    def post(self, entry: LedgerEntry) -> StockPosition:
        key = (entry.warehouse, entry.sku)
        after = self.position(*key).apply(entry)       # StockError if not possible
        self.uow.ledger.append(entry)
        self._positions[key] = after
        if key not in self._touched:
            self._touched.append(key)
        return after

    def finish(self) -> list[dict]:
        """Check the reorder points of everything touched; publish ``reorder_needed``."""
        if not self._touched:
            return []
        parts = self.uow.catalogue.get_many(sku for _, sku in self._touched)
        raised = []
        for warehouse, sku in sorted(self._touched):
            part = parts[sku]
            state = self.uow.reorder.get(warehouse, sku, part.reorder_point)
            pos = self._positions[(warehouse, sku)]
            new, fire = model.reorder_crossing(state, pos.available)
            if new.below != state.below:
                self.uow.reorder.save_below(warehouse, sku, new.below)
            if fire:
                data = {"warehouse": warehouse, "sku": sku, "name": part.name,
                        "on_hand": pos.on_hand, "reserved": pos.reserved,
                        "available": pos.available, "reorder_point": new.reorder_point,
                        "suggested_quantity": model.suggested_order(pos, new.reorder_point),
                        "lead_time_days": part.lead_time_days}
                self.uow.publish("reorder_needed", data, branch=warehouse)
                raised.append(data)
                log.info("reorder needed: %s in %s (available %d, reorder point %d)", sku,
                         warehouse, pos.available, new.reorder_point)
        self._touched = []
        return raised


# -- parts requests: creation, approval, fulfilment ------------------------------------------------
def _lines_or_errors(uow, lines: list[tuple[str, int]], field_name: str = "lines"):
    catalogue = uow.catalogue.get_many(sku for sku, _ in lines)
    errors = [{"field": f"{field_name}.{i}.sku", "message": f"unknown SKU {sku!r}"}
              for i, (sku, _) in enumerate(lines) if sku not in catalogue]
    return catalogue, errors


def create_request(uow, settings: Settings, *, ticket_no: str, branch: str,
                   lines: list[tuple[str, int]], requested_by: str, note: str | None = None,
                   source: str = "http") -> Outcome:
    """A parts request over HTTP (warranty: the ticket's, ``warranty.py``): InvalidInput for
    unknown SKUs; auto-approved (and fulfilled) when the rule allows, else waits for the manager."""
    with uow:
        catalogue, errors = _lines_or_errors(uow, lines)
        if errors:
            raise InvalidInput(errors)
        in_warranty = warranty.in_warranty_for(uow, ticket_no, branch)
        outcome = _create(uow, settings, catalogue, ticket_no=ticket_no, branch=branch,
                          in_warranty=in_warranty, lines=lines, requested_by=requested_by,
                          note=note, source=source)
        uow.commit()
    return outcome


def request_from_event(uow, env: Envelope, settings: Settings) -> Outcome | None:
    """``parts_requested`` from dispatch. Idempotent by event id. A request naming unknown
    SKUs is recorded as rejected and answered with ``parts_request_rejected``."""
    ask = PartsRequestedV1.model_validate(env.data)
    branch = env.branch
    if branch not in settings.branches:
        raise PermanentError(f"parts_requested for {ask.ticket_no} names no known branch "
                             f"({branch!r})")
    lines = [(line.sku, line.quantity) for line in ask.lines]
    with uow:
        if uow.seen(env.event_id):
            return None
        uow.record_processed(env.event_id, env.type)
        if uow.requests.by_event(str(env.event_id)) is not None:
            uow.commit()
            return None
        warranty.record_dispatch_decision(uow, ask.ticket_no, branch, ask.in_warranty)
        catalogue, errors = _lines_or_errors(uow, lines)
        now = utcnow()
        if errors:
            req = rq.PartsRequest(new_id("PR"), ask.ticket_no, branch, ask.in_warranty,
                                  tuple(rq.RequestLine.of(catalogue[s], q)
                                        for s, q in lines if s in catalogue),
                                  ask.requested_by, now, source="dispatch", note=ask.note)
            reason = "; ".join(e["message"] for e in errors)
            req.reject("parts", now, reason)
            uow.requests.add(req, str(env.event_id))
            _publish_rejected(uow, req)
            view = request_view(uow, req)
            uow.commit()
            return Outcome(view)
        outcome = _create(uow, settings, catalogue, ticket_no=ask.ticket_no, branch=branch,
                          in_warranty=ask.in_warranty, lines=lines,
                          requested_by=ask.requested_by, note=ask.note, source="dispatch",
                          source_event_id=str(env.event_id))
        uow.commit()
    return outcome


def _create(uow, settings: Settings, catalogue: dict[str, Part], *, ticket_no, branch,
            in_warranty, lines, requested_by, note, source, source_event_id=None) -> Outcome:
    now = utcnow()
    req = rq.PartsRequest(new_id("PR"), ticket_no, branch, in_warranty,
                          tuple(rq.RequestLine.of(catalogue[sku], q) for sku, q in lines),
                          requested_by, now, source=source, note=note)
    req.history.append({"action": "create", "to": rq.PENDING, "by": requested_by,
                        "at": now.isoformat(), "source": source})
    outcome = Outcome()
    before = warranty.auto_approved_before(uow, ticket_no)
    if rq.auto_approves(in_warranty, req.cost_total, settings.auto_approve_limit, before):
        uow.catalogue.lock(req.quantities())
        req.approve("auto", now, auto=True, note=f"in warranty, ticket's cost {before} + "
                    f"{req.cost_total} < {settings.auto_approve_limit}")
        uow.requests.add(req, source_event_id)
        book = StockBook(uow, now)
        outcome.backorders = _approve_and_fulfil(uow, book, req, settings, catalogue)
        book.finish()
    else:
        uow.requests.add(req, source_event_id)
    outcome.view = request_view(uow, req)
    return outcome


def _publish_rejected(uow, req: rq.PartsRequest) -> None:
    uow.publish("parts_request_rejected", {
        "request_id": req.request_id, "ticket_no": req.ticket_no, "rejected_by": req.decided_by,
        "reason": req.reason, "rejected_at": req.decided_at.isoformat()},
        ticket_no=req.ticket_no, branch=req.branch)


def _approve_and_fulfil(uow, book: StockBook, req: rq.PartsRequest, settings: Settings,
                        catalogue: dict[str, Part]) -> dict[str, int]:
    """Publish the approval with prices, then serve the request: reserve locally, transfer
    from the nearest branches, backorder the rest. The SKUs are locked by the caller."""
    now = book.now
    uow.publish("parts_request_approved", {
        "request_id": req.request_id, "ticket_no": req.ticket_no, "in_warranty": req.in_warranty,
        "approved_by": req.decided_by, "auto_approved": req.auto_approved,
        "approved_at": req.decided_at.isoformat(), "currency": "CNY",
        "lines": [{"sku": line.sku, "name": line.name, "unit": line.unit,
                   "quantity": line.quantity, "unit_price": str(line.unit_price),
                   "line_total": str(line.line_total)} for line in req.lines],
        "total": str(req.total), "chargeable_total": str(req.chargeable_total)},
        ticket_no=req.ticket_no, branch=req.branch)
    wanted = req.quantities()
    others = [(w, book.available(w, wanted)) for w in rq.nearest_branches(settings.branches, req.branch)]
    plan = rq.plan_allocation(wanted, book.available(req.branch, wanted), others)
    actor = f"request:{req.request_id}"
    for line in plan.reserve:
        book.post(model.movement(model.RESERVE, req.branch, line.sku, line.quantity, now,
                                 ticket_no=req.ticket_no, request_id=req.request_id, actor=actor))
    if plan.reserve:
        uow.publish("parts_reserved", {
            "request_id": req.request_id, "ticket_no": req.ticket_no, "warehouse": req.branch,
            "lines": [{"sku": l.sku, "quantity": l.quantity} for l in plan.reserve],
            "complete": plan.complete}, ticket_no=req.ticket_no, branch=req.branch)
    for source, lines in plan.transfers:
        transfer = rq.Transfer(new_id("TR"), source, req.branch, lines, now,
                               rq.expected_at(now, settings.transfer_days),
                               request_id=req.request_id, ticket_no=req.ticket_no)
        for line in lines:
            book.post(model.movement(model.TRANSFER_OUT, source, line.sku, line.quantity, now,
                                     ticket_no=req.ticket_no, request_id=req.request_id,
                                     ref=transfer.transfer_id, note=f"to {req.branch}",
                                     actor=actor))
        uow.transfers.add(transfer)
        uow.publish("parts_transfer_started", _transfer_data(transfer),
                    ticket_no=req.ticket_no, branch=req.branch)
    raised: dict[str, int] = {}
    if plan.backorders:
        items = []
        for line in plan.backorders:
            lead = catalogue[line.sku].lead_time_days
            b = rq.Backorder(new_id("BO"), req.request_id, req.ticket_no, req.branch, line.sku,
                             line.quantity, lead, rq.expected_at(now, lead), now)
            uow.backorders.add(b)
            items.append(b)
        raised[req.branch] = len(items)
        uow.publish("parts_backordered", {
            "request_id": req.request_id, "ticket_no": req.ticket_no, "warehouse": req.branch,
            "lines": [{"backorder_id": b.backorder_id, "sku": b.sku, "quantity": b.quantity,
                       "lead_time_days": b.lead_time_days, "expected_at": b.expected_at.isoformat()}
                      for b in items],
            "expected_at": max(b.expected_at for b in items).isoformat()},
            ticket_no=req.ticket_no, branch=req.branch)
    return raised


def _transfer_data(t: rq.Transfer) -> dict:
    return {"transfer_id": t.transfer_id, "from_warehouse": t.from_warehouse,
            "to_warehouse": t.to_warehouse,
            "lines": [{"sku": l.sku, "quantity": l.quantity} for l in t.lines],
            "expected_at": t.expected_at.isoformat(), "request_id": t.request_id,
            "ticket_no": t.ticket_no}


def _locked_request(uow, principal: Principal | None, request_id: str) -> rq.PartsRequest:
    """Lock the request's SKUs, then the request (the platform's lock order)."""
    req = uow.requests.get(request_id)
    if req is None or (principal is not None and not principal.can_access(req.branch)):
        raise NotFound(f"no parts request {request_id}")
    uow.catalogue.lock(req.quantities())
    return uow.requests.get(request_id, lock=True)


def _transition(fn):
    """Domain refusals become 409 Conflict; impossible stock movements too."""
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (rq.InvalidTransition, rma.AlreadyInspected, StockError) as exc:
            raise Conflict(str(exc)) from None
    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


@_transition
def approve_request(uow, settings: Settings, principal: Principal, request_id: str,
                    note: str | None = None) -> Outcome:
    principal.require_role("manager")
    with uow:
        req = _locked_request(uow, principal, request_id)
        now = utcnow()
        req.approve(who(principal), now, note=note)
        book = StockBook(uow, now)
        raised = _approve_and_fulfil(uow, book, req, settings,
                                     uow.catalogue.get_many(req.quantities()))
        book.finish()
        uow.requests.save(req, now)
        view = request_view(uow, req)
        uow.commit()
    return Outcome(view, raised)


@_transition
def reject_request(uow, principal: Principal, request_id: str, reason: str) -> Outcome:
    principal.require_role("manager")
    with uow:
        req = _locked_request(uow, principal, request_id)
        now = utcnow()
        req.reject(who(principal), now, reason)
        uow.requests.save(req, now)
        _publish_rejected(uow, req)
        view = request_view(uow, req)
        uow.commit()
    return Outcome(view)


@_transition
def ship_request(uow, principal: Principal, request_id: str) -> Outcome:
    """Issue every reserved part still on the shelf to the engineer / the site."""
    principal.require_role("warehouse", "manager")
    with uow:
        req = _locked_request(uow, principal, request_id)
        now = utcnow()
        holds = [h for h in uow.ledger.holds([req.request_id]) if h.shelf]
        if not holds:
            raise Conflict(f"parts request {request_id} has nothing reserved on the shelf to ship")
        req.ship(who(principal), now)
        book = StockBook(uow, now)
        for h in holds:
            book.post(model.movement(model.SHIP, req.branch, h.sku, h.shelf, now,
                                     ticket_no=req.ticket_no, request_id=req.request_id,
                                     actor=who(principal)))
        book.finish()
        uow.requests.save(req, now)
        uow.publish("parts_shipped", {
            "request_id": req.request_id, "ticket_no": req.ticket_no, "warehouse": req.branch,
            "lines": [{"sku": h.sku, "quantity": h.shelf} for h in holds],
            "shipped_by": who(principal), "shipped_at": now.isoformat()},
            ticket_no=req.ticket_no, branch=req.branch)
        view = request_view(uow, req)
        uow.commit()
    return Outcome(view)


@_transition
def deliver_request(uow, principal: Principal, request_id: str) -> Outcome:
    principal.require_role("engineer", "warehouse", "dispatcher", "manager")
    with uow:
        req = _locked_request(uow, principal, request_id)
        now = utcnow()
        req.deliver(who(principal), now)
        uow.requests.save(req, now)
        uow.publish("parts_delivered", {
            "request_id": req.request_id, "ticket_no": req.ticket_no,
            "delivered_by": who(principal), "delivered_at": now.isoformat()},
            ticket_no=req.ticket_no, branch=req.branch)
        view = request_view(uow, req)
        uow.commit()
    return Outcome(view)


@_transition
def return_unused(uow, principal: Principal, request_id: str) -> Outcome:
    """The engineer brought back the parts the job did not use: release them to stock."""
    principal.require_role("warehouse", "manager")
    with uow:
        req = _locked_request(uow, principal, request_id)
        now = utcnow()
        req.return_unused(who(principal), now)
        book = StockBook(uow, now)
        _release(book, req, uow.ledger.holds([req.request_id]), who(principal))
        book.finish()
        uow.requests.save(req, now)
        view = request_view(uow, req)
        uow.commit()
    return Outcome(view)


@_transition
def cancel_request(uow, principal: Principal, request_id: str, reason: str) -> Outcome:
    """Before anything was shipped: release the reservations and cancel open backorders
    (parts already in transfer arrive into the branch's stock)."""
    principal.require_role("dispatcher", "manager", "engineer")
    with uow:
        req = _locked_request(uow, principal, request_id)
        now = utcnow()
        req.cancel(who(principal), now, reason)
        book = StockBook(uow, now)
        _release(book, req, uow.ledger.holds([req.request_id]), who(principal))
        _cancel_backorders(uow, req.request_id, now)
        book.finish()
        uow.requests.save(req, now)
        view = request_view(uow, req)
        uow.commit()
    return Outcome(view)


def _release(book: StockBook, req: rq.PartsRequest, holds, actor: str) -> None:
    for h in holds:
        if h.issued:
            book.post(model.movement(model.RELEASE, req.branch, h.sku, h.issued, book.now,
                                     issued=True, ticket_no=req.ticket_no,
                                     request_id=h.request_id, actor=actor))
        if h.shelf:
            book.post(model.movement(model.RELEASE, req.branch, h.sku, h.shelf, book.now,
                                     ticket_no=req.ticket_no, request_id=h.request_id,
                                     actor=actor))


def _cancel_backorders(uow, request_id: str, now: datetime) -> None:
    for b in uow.backorders.for_request(request_id, status="open"):
        uow.backorders.save(b.cancel(now))


def _request_complete(uow, request_id: str) -> bool:
    """Nothing of the request is still in transfer or backordered."""
    return not uow.backorders.for_request(request_id, status="open") and not any(
        t.status == "in_transit" for t in uow.transfers.for_request(request_id))


@_transition
def receive_transfer(uow, principal: Principal, transfer_id: str) -> Outcome:
    """The destination warehouse received a transfer: into its stock, and reserved for the
    request it was sent for (if that request still needs it)."""
    principal.require_role("warehouse", "manager")
    with uow:
        t = uow.transfers.get(transfer_id)
        if t is None or not principal.can_access(t.to_warehouse):
            raise NotFound(f"no transfer {transfer_id}")
        uow.catalogue.lock(line.sku for line in t.lines)
        t = uow.transfers.get(transfer_id, lock=True)
        now = utcnow()
        t = t.receive(who(principal), now)
        uow.transfers.save(t)
        book = StockBook(uow, now)
        for line in t.lines:
            book.post(model.movement(model.TRANSFER_IN, t.to_warehouse, line.sku, line.quantity,
                                     now, ticket_no=t.ticket_no, request_id=t.request_id,
                                     ref=t.transfer_id, note=f"from {t.from_warehouse}",
                                     actor=who(principal)))
        _reserve_arrival(uow, book, t.request_id, t.to_warehouse, t.lines,
                         transfer_id=t.transfer_id)
        book.finish()
        view = transfer_view(t)
        uow.commit()
    return Outcome(view)


@_transition
def receive_backorder(uow, principal: Principal, backorder_id: str) -> Outcome:
    """The supplier delivered a backordered line: into stock, reserved for its request."""
    principal.require_role("warehouse", "manager")
    with uow:
        b = uow.backorders.get(backorder_id)
        if b is None or not principal.can_access(b.warehouse):
            raise NotFound(f"no backorder {backorder_id}")
        uow.catalogue.lock([b.sku])
        b = uow.backorders.get(backorder_id, lock=True)
        now = utcnow()
        b = b.receive(now)
        uow.backorders.save(b)
        book = StockBook(uow, now)
        book.post(model.movement(model.RECEIVE, b.warehouse, b.sku, b.quantity, now,
                                 ticket_no=b.ticket_no, request_id=b.request_id,
                                 ref=b.backorder_id, note="backorder received",
                                 actor=who(principal)))
        _reserve_arrival(uow, book, b.request_id, b.warehouse, (model.Line(b.sku, b.quantity),),
                         backorder_id=b.backorder_id)
        book.finish()
        view = backorder_view(b)
        uow.commit()
    return Outcome(view)


def _reserve_arrival(uow, book: StockBook, request_id: str | None, warehouse: str, lines,
                     transfer_id: str | None = None, backorder_id: str | None = None) -> None:
    if not request_id:
        return
    req = uow.requests.get(request_id, lock=True)
    if req is None or req.status not in rq.ACTIVE:
        return       # the request is finished: the parts simply join the stock
    for line in lines:
        book.post(model.movement(model.RESERVE, warehouse, line.sku, line.quantity, book.now,
                                 ticket_no=req.ticket_no, request_id=req.request_id,
                                 ref=transfer_id or backorder_id,
                                 actor=f"request:{req.request_id}"))
    uow.publish("parts_reserved", {
        "request_id": req.request_id, "ticket_no": req.ticket_no, "warehouse": warehouse,
        "lines": [{"sku": l.sku, "quantity": l.quantity} for l in lines],
        "complete": _request_complete(uow, req.request_id), "transfer_id": transfer_id,
        "backorder_id": backorder_id}, ticket_no=req.ticket_no, branch=req.branch)


# -- job completion ---------------------------------------------------------------------------------
def consume_for_job(uow, env: Envelope, branches: dict) -> model.JobConsumption | None:
    """``job_completed``: take the parts fitted from the job's branch warehouse — first what
    the ticket's parts requests hold, then free stock — and publish ``parts_consumed``
    (lines taken, and shortages that were not). The requests are completed: parts reserved
    on the shelf and not used are released at once; unused parts out with the engineer stay
    reserved until the warehouse confirms their return. Idempotent by event id."""
    job = JobCompletedV1.model_validate(env.data)
    warehouse = env.branch
    if warehouse not in branches and job.parts_used:
        raise PermanentError(f"job_completed for {env.ticket_no} names no known branch "
                             f"warehouse ({warehouse!r})")
    with uow:
        if uow.seen(env.event_id):
            return None
        uow.record_processed(env.event_id, env.type)
        if warehouse not in branches:       # no parts and no warehouse: nothing to do
            uow.commit()
            return None
        open_requests = [r for r in uow.requests.for_ticket(job.ticket_no,
                                                            rq.ACTIVE + (rq.PENDING,))
                         if r.branch == warehouse]
        if not job.parts_used and not open_requests:
            uow.commit()
            return None
        lines = [model.Line(p.sku, p.quantity, p.serial_no) for p in job.parts_used]
        skus = {line.sku for line in lines}
        for r in open_requests:
            skus |= set(r.quantities())
        uow.catalogue.lock(skus)
        known = set(uow.catalogue.get_many(skus))
        locked = [uow.requests.get(r.request_id, lock=True) for r in open_requests]
        open_requests = [r for r in locked if r.status in rq.ACTIVE + (rq.PENDING,)]
        active = [r for r in open_requests if r.status in rq.ACTIVE]
        now = utcnow()
        book = StockBook(uow, now)
        holds = uow.ledger.holds([r.request_id for r in active])
        plan = model.plan_job_consumption(
            lines, holds, book.available(warehouse, [s for s in skus if s in known]))
        for entry in plan.entries(warehouse, now, job.ticket_no, str(env.event_id),
                                  actor="job_completed"):
            book.post(entry)
        for r in open_requests:
            left = [h for h in plan.leftovers if h.request_id == r.request_id]
            shelf = [model.Hold(h.request_id, h.sku, shelf=h.shelf) for h in left if h.shelf]
            _release(book, r, shelf, "job_completed")
            r.complete("job_completed", now, parts_out=any(h.issued for h in left))
            _cancel_backorders(uow, r.request_id, now)   # the job no longer waits for them
            uow.requests.save(r, now)
        book.finish()
        if lines:
            uow.publish("parts_consumed", {
                "ticket_no": job.ticket_no, "warehouse": warehouse,
                "lines": [line.as_dict() for line in plan.consumed()],
                "shortages": [line.as_dict() for line in plan.shortages],
            }, ticket_no=job.ticket_no, branch=warehouse)
        uow.commit()
    if plan.shortages:
        log.warning("%s: short of %s in %s", job.ticket_no,
                    ", ".join(f"{s.sku}×{s.quantity}" for s in plan.shortages), warehouse)
    return plan


def handle_event(uow, env: Envelope, settings: Settings) -> object:
    """Route an event from parts' queue to its use case; other types are acknowledged."""
    if env.type == "job_completed":
        return consume_for_job(uow, env, settings.branches)
    if env.type == "parts_requested":
        return request_from_event(uow, env, settings)
    if env.type == "ticket_opened":
        return warranty.record_ticket_opened(uow, env)
    log.info("parts ignores %s events (event %s)", env.type, env.event_id)
    return None


# -- warehouse movements and reorder points ---------------------------------------------------------
MOVEMENT_KINDS = ("receive", "scrap", "stocktake")


@_transition
def record_movement(uow, principal: Principal, branches: dict, *, branch: str | None,
                    kind: str, sku: str, quantity: int | None = None,
                    counted: int | None = None, note: str | None = None) -> dict:
    """A warehouse's own movement: a receipt, a write-off (scrap, from available stock only)
    or a stocktake (``counted`` on the shelf → an adjustment of the difference)."""
    principal.require_role("warehouse", "manager")
    warehouse = branch_for(principal, branch, branches)
    if kind not in MOVEMENT_KINDS:
        raise InvalidInput([{"field": "kind", "message": f"must be one of {', '.join(MOVEMENT_KINDS)}"}])
    if kind == "stocktake":
        if counted is None:
            raise InvalidInput([{"field": "counted", "message": "is required for a stocktake"}])
    elif quantity is None:
        raise InvalidInput([{"field": "quantity", "message": f"is required for a {kind}"}])
    with uow:
        if not uow.catalogue.get_many([sku]):
            raise InvalidInput([{"field": "sku", "message": f"unknown SKU {sku!r}"}])
        uow.catalogue.lock([sku])
        now = utcnow()
        book = StockBook(uow, now)
        before = book.position(warehouse, sku)
        actor = who(principal)
        if kind == "stocktake":
            delta = model.stocktake(before, counted)
            if delta:
                book.post(model.movement(model.ADJUST, warehouse, sku, delta, now,
                                         note=note or f"stocktake: counted {counted}",
                                         actor=actor))
        elif kind == "receive":
            book.post(model.movement(model.RECEIVE, warehouse, sku, quantity, now, note=note,
                                     actor=actor))
        else:
            book.post(model.movement(model.SCRAP, warehouse, sku, quantity, now, note=note,
                                     actor=actor))
        book.finish()
        after = book.position(warehouse, sku)
        uow.commit()
    return {"branch": warehouse, "sku": sku, "kind": kind, "before": _position(before),
            "after": _position(after)}


def _position(p: StockPosition) -> dict:
    return {"on_hand": p.on_hand, "reserved": p.reserved, "issued": p.issued,
            "available": p.available}


@_transition
def set_reorder_point(uow, principal: Principal, branches: dict, *, branch: str | None,
                      sku: str, reorder_point: int | None) -> dict:
    """Set (or, with null, clear back to the catalogue's default) a warehouse's reorder point
    for a SKU; if available stock is already at or below it, ``reorder_needed`` goes out."""
    principal.require_role("warehouse", "manager")
    warehouse = branch_for(principal, branch, branches)
    with uow:
        parts = uow.catalogue.get_many([sku])
        if not parts:
            raise InvalidInput([{"field": "sku", "message": f"unknown SKU {sku!r}"}])
        uow.catalogue.lock([sku])
        uow.reorder.set_point(warehouse, sku, reorder_point)
        book = StockBook(uow, utcnow())
        book.touch(warehouse, sku)
        raised = book.finish()
        state = uow.reorder.get(warehouse, sku, parts[sku].reorder_point)
        uow.commit()
    return {"branch": warehouse, "sku": sku, "reorder_point": state.reorder_point,
            "below": state.below, "reorder_needed": bool(raised)}


# -- returns of faulty parts (RMA) and QC ------------------------------------------------------------
def open_return(uow, principal: Principal, branches: dict, *, branch: str | None, sku: str,
                serial_no: str | None, model_name: str, fault: str,
                ticket_no: str | None) -> dict:
    """A part removed on site came back: it waits for QC (not stock until restocked)."""
    principal.require_role("engineer", "warehouse", "qc", "dispatcher", "manager")
    home = branch_for(principal, branch, branches)
    with uow:
        if not uow.catalogue.get_many([sku]):
            raise InvalidInput([{"field": "sku", "message": f"unknown SKU {sku!r}"}])
        now = utcnow()
        r = rma.PartReturn(new_id("RMA"), home, sku, serial_no, model_name, fault, who(principal),
                           now, ticket_no=ticket_no)
        uow.returns.add(r)
        uow.publish("part_return_received", {
            "return_id": r.return_id, "ticket_no": r.ticket_no, "sku": r.sku,
            "serial_no": r.serial_no, "model": r.model, "fault": r.fault,
            "received_at": now.isoformat()}, ticket_no=r.ticket_no, branch=home)
        uow.commit()
    return return_view(r)


@_transition
def inspect_return(uow, principal: Principal, return_id: str, decision: str,
                   note: str | None) -> dict:
    """QC's decision. Restocked: a ``return`` movement into the branch warehouse. Design
    defect: ``design_defect_reported`` for R&D with the model and the fault."""
    principal.require_role("qc")
    with uow:
        r = uow.returns.get(return_id)
        if r is None or not principal.can_access(r.branch):
            raise NotFound(f"no return {return_id}")
        if decision == rma.RESTOCKED:
            uow.catalogue.lock([r.sku])
        r = uow.returns.get(return_id, lock=True)
        now = utcnow()
        r = r.inspect(decision, who(principal), now, note)
        uow.returns.save(r)
        if decision == rma.RESTOCKED:
            book = StockBook(uow, now)
            book.post(model.movement(model.RETURN, r.branch, r.sku, 1, now,
                                     ticket_no=r.ticket_no, serial_no=r.serial_no,
                                     ref=r.return_id, note="repaired after QC",
                                     actor=who(principal)))
            book.finish()
        uow.publish("part_return_inspected", {
            "return_id": r.return_id, "ticket_no": r.ticket_no, "sku": r.sku,
            "serial_no": r.serial_no, "model": r.model, "decision": decision, "note": note,
            "inspected_by": who(principal), "inspected_at": now.isoformat()},
            ticket_no=r.ticket_no, branch=r.branch)
        if decision == rma.DESIGN_DEFECT:
            uow.publish("design_defect_reported", {
                "return_id": r.return_id, "ticket_no": r.ticket_no, "sku": r.sku,
                "serial_no": r.serial_no, "model": r.model, "fault": r.fault, "finding": note,
                "reported_by": who(principal), "reported_at": now.isoformat()},
                ticket_no=r.ticket_no, branch=r.branch)
        uow.commit()
    return return_view(r)


# -- views ------------------------------------------------------------------------------------------
def request_view(uow, req: rq.PartsRequest) -> dict:
    holds = {h.sku: h for h in uow.ledger.holds([req.request_id])}
    moved = uow.ledger.entries(req.branch, request_id=req.request_id, limit=10000)
    consumed: dict[str, int] = {}
    for e in moved:
        if e.kind == model.CONSUME:
            consumed[e.sku] = consumed.get(e.sku, 0) - e.quantity
    transfers = uow.transfers.for_request(req.request_id)
    backorders = uow.backorders.for_request(req.request_id)
    in_transfer: dict[str, int] = {}
    for t in transfers:
        if t.status == "in_transit":
            for line in t.lines:
                in_transfer[line.sku] = in_transfer.get(line.sku, 0) + line.quantity
    backordered: dict[str, int] = {}
    for b in backorders:
        if b.status == "open":
            backordered[b.sku] = backordered.get(b.sku, 0) + b.quantity
    return {
        "request_id": req.request_id, "ticket_no": req.ticket_no, "branch": req.branch,
        "status": req.status, "in_warranty": req.in_warranty, "source": req.source,
        "requested_by": req.requested_by, "note": req.note,
        "created_at": req.created_at.isoformat(),
        "approval": {"by": req.decided_by, "at": req.decided_at.isoformat() if req.decided_at else None,
                     "auto": req.auto_approved, "reason": req.reason},
        "currency": "CNY", "total": str(req.total), "chargeable_total": str(req.chargeable_total),
        "cost_total": str(req.cost_total),
        "lines": [{"sku": l.sku, "name": l.name, "unit": l.unit, "quantity": l.quantity,
                   "unit_price": str(l.unit_price), "line_total": str(l.line_total)}
                  for l in req.lines],
        "stock": [{"sku": sku,
                   "reserved": holds[sku].shelf if sku in holds else 0,
                   "issued": holds[sku].issued if sku in holds else 0,
                   "in_transfer": in_transfer.get(sku, 0),
                   "backordered": backordered.get(sku, 0),
                   "consumed": consumed.get(sku, 0)} for sku in req.quantities()],
        "transfers": [transfer_view(t) for t in transfers],
        "backorders": [backorder_view(b) for b in backorders],
        "history": req.history,
    }


def transfer_view(t: rq.Transfer) -> dict:
    return {**_transfer_data(t), "status": t.status, "created_at": t.created_at.isoformat(),
            "received_at": t.received_at.isoformat() if t.received_at else None,
            "received_by": t.received_by}


def backorder_view(b: rq.Backorder) -> dict:
    return {"backorder_id": b.backorder_id, "request_id": b.request_id, "ticket_no": b.ticket_no,
            "warehouse": b.warehouse, "sku": b.sku, "quantity": b.quantity,
            "lead_time_days": b.lead_time_days, "expected_at": b.expected_at.isoformat(),
            "status": b.status, "created_at": b.created_at.isoformat(),
            "closed_at": b.closed_at.isoformat() if b.closed_at else None}


def return_view(r: rma.PartReturn) -> dict:
    return {"return_id": r.return_id, "branch": r.branch, "ticket_no": r.ticket_no,
            "sku": r.sku, "serial_no": r.serial_no, "model": r.model, "fault": r.fault,
            "status": r.status, "decision": r.decision, "note": r.note,
            "received_by": r.received_by, "received_at": r.received_at.isoformat(),
            "inspected_by": r.inspected_by,
            "inspected_at": r.inspected_at.isoformat() if r.inspected_at else None}


def get_request(uow, principal: Principal, request_id: str) -> dict:
    with uow:
        req = uow.requests.get(request_id)
        if req is None or not principal.can_access(req.branch):
            raise NotFound(f"no parts request {request_id}")
        return request_view(uow, req)


def list_requests(uow, principal: Principal, branches: dict, branch: str | None,
                  status: str | None, ticket_no: str | None, limit: int) -> dict:
    if status and status not in rq.STATUSES:
        raise InvalidInput([{"field": "status", "message": f"must be one of {', '.join(rq.STATUSES)}"}])
    scope = _scope(principal, branches, branch)
    with uow:
        found = uow.requests.search(scope, status, ticket_no, limit)
        return {"branch": scope, "requests": [
            {"request_id": r.request_id, "ticket_no": r.ticket_no, "branch": r.branch,
             "status": r.status, "in_warranty": r.in_warranty, "total": str(r.total),
             "auto_approved": r.auto_approved, "created_at": r.created_at.isoformat(),
             "lines": [{"sku": l.sku, "quantity": l.quantity} for l in r.lines]}
            for r in found]}


def _scope(principal: Principal, branches: dict, branch: str | None) -> str | None:
    """A branch filter: HQ keys may leave it out (every branch)."""
    if principal.is_hq and not branch:
        return None
    return branch_for(principal, branch, branches)


def list_transfers(uow, principal, branches, branch, status, limit) -> dict:
    scope = _scope(principal, branches, branch)
    with uow:
        return {"branch": scope, "transfers": [transfer_view(t) for t in
                                               uow.transfers.search(scope, status, limit)]}


def list_backorders(uow, principal, branches, branch, status, limit) -> dict:
    scope = _scope(principal, branches, branch)
    with uow:
        return {"branch": scope, "backorders": [backorder_view(b) for b in
                                                uow.backorders.search(scope, status, limit)]}


def list_returns(uow, principal, branches, branch, status, limit) -> dict:
    scope = _scope(principal, branches, branch)
    with uow:
        return {"branch": scope, "returns": [return_view(r) for r in
                                             uow.returns.search(scope, status, limit=limit)]}


def get_return(uow, principal: Principal, return_id: str) -> dict:
    with uow:
        r = uow.returns.get(return_id)
        if r is None or not principal.can_access(r.branch):
            raise NotFound(f"no return {return_id}")
        return return_view(r)


def catalogue_view(uow, model_name: str | None = None) -> dict:
    with uow:
        found = uow.catalogue.all()
    if model_name:
        found = [p for p in found if p.fits(model_name)]
    return {"model": model_name, "parts": [
        {"sku": p.sku, "name": p.name, "unit": p.unit, "cost_price": str(p.cost_price),
         "price": str(p.price), "compatible_models": list(p.compatible_models),
         "lead_time_days": p.lead_time_days, "reorder_point": p.reorder_point}
        for p in found]}


def stock_view(uow, principal: Principal, branch: str | None, branches: dict) -> dict:
    warehouse = branch_for(principal, branch, branches)
    with uow:
        catalogue = uow.catalogue.all()
        levels = uow.ledger.positions(warehouse)
        overrides = uow.reorder.overrides(warehouse)
    out = []
    for p in catalogue:
        pos = levels.get(p.sku, StockPosition())
        point = overrides.get(p.sku, p.reorder_point)
        out.append({"sku": p.sku, "name": p.name, "unit": p.unit, "on_hand": pos.on_hand,
                    "reserved": pos.reserved, "issued": pos.issued, "available": pos.available,
                    "reorder_point": point,
                    "reorder_needed": point is not None and pos.available <= point})
    return {"branch": warehouse, "stock": out}


def ledger_view(uow, principal: Principal, branch: str | None, ticket_no: str | None,
                branches: dict, limit: int = 200, sku: str | None = None,
                request_id: str | None = None) -> dict:
    warehouse = branch_for(principal, branch, branches)
    with uow:
        entries = uow.ledger.entries(warehouse, ticket_no or None, limit, sku or None,
                                     request_id or None)
    return {"branch": warehouse, "ticket_no": ticket_no or None, "entries": [
        _entry_view(e) for e in entries]}


def _entry_view(e: LedgerEntry) -> dict:
    return {"warehouse": e.warehouse, "sku": e.sku, "quantity": e.quantity, "kind": e.kind,
            "reserved": e.reserved, "issued": e.issued, "ticket_no": e.ticket_no,
            "serial_no": e.serial_no, "request_id": e.request_id, "ref": e.ref,
            "note": e.note, "actor": e.actor, "event_id": e.event_id,
            "created_at": e.created_at.isoformat()}


# -- reports ----------------------------------------------------------------------------------------
def ledger_report(uow, principal: Principal, branches: dict, branch: str | None,
                  month: str | None) -> dict:
    """The monthly parts ledger of a branch warehouse (售后物品清单): per SKU the opening and
    closing on hand and what came in and went out, by kind; and every movement of the month.
    The month is the branch's calendar month (its time zone)."""
    warehouse = branch_for(principal, branch, branches)
    if not month:
        raise InvalidInput([{"field": "month", "message": "is required (YYYY-MM)"}])
    tz = branches[warehouse].get("timezone", "Asia/Shanghai")
    try:
        start, end = reports.month_bounds(month, tz)
    except ValueError as exc:
        raise InvalidInput([{"field": "month", "message": str(exc)}]) from None
    with uow:
        opening = uow.ledger.opening(warehouse, start)
        movements = uow.ledger.between(warehouse, start, end)
        parts = {p.sku: p for p in uow.catalogue.all()}
    lines = reports.monthly_ledger(opening, movements, parts)
    return {"branch": warehouse, "branch_name": branches[warehouse].get("name"), "month": month,
            "timezone": tz, "from": start.isoformat(), "to": end.isoformat(), "currency": "CNY",
            "lines": [line.as_dict() for line in lines], "totals": reports.totals(lines),
            "movements": [_entry_view(e) for e in movements]}


def ledger_report_csv(report: dict) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(reports.CSV_HEADER)
    for line in report["lines"]:
        writer.writerow([line[col] for col in reports.CSV_HEADER])
    return "\ufeff" + buf.getvalue()   # BOM: spreadsheet programs then read the UTF-8 names


def defects_report(uow, principal: Principal, branches: dict, branch: str | None,
                   model_name: str | None, since: datetime | None,
                   until: datetime | None) -> dict:
    """Returned parts and QC's decisions per equipment model (design defects for R&D)."""
    scope = _scope(principal, branches, branch)
    with uow:
        found = uow.returns.search(scope, model=model_name or None, since=since, until=until)
    return {"branch": scope, "model": model_name or None,
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "returns": len(found), "models": rma.defect_statistics(found)}
