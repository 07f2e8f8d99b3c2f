"""Parts requests: creation (over HTTP, or ``parts_requested`` from dispatch), approval and
fulfilment (reserve locally, transfer from the nearest branches, backorder the rest), shipping,
delivery, the return of unused parts and cancellation.

Every use case that moves stock first locks the SKUs it touches (``uow.catalogue.lock``: row
locks in SKU order on PostgreSQL, the write transaction on SQLite) and only then reads stock
positions, so two workers can never both take the last unit. The request is locked after its
SKUs (always in that order: no deadlocks). The bus runs each in one unit of work.
"""
from __future__ import annotations

from datetime import datetime

from aftersales.auth import Principal
from aftersales.contracts.envelope import Envelope, utcnow
from aftersales.contracts.events import PartsRequestedV1
from aftersales.errors import Conflict, InvalidInput, NotFound, PermanentError
from aftersales.scoping import branch_for

from ..adapters.completed import CompletedJobs
from ..domain import model, requests as rq
from ..domain.model import Hold, Part
from ..domain.stock import StockBook
from . import commands, warranty
from .common import Outcome, Settings, finish_book, new_id, open_book
from .views import request_view, transfer_data


# -- creation ---------------------------------------------------------------------------------
def _lines_or_errors(uow, lines: list[tuple[str, int]], field_name: str = "lines"):
    catalogue = uow.catalogue.get_many(sku for sku, _ in lines)
    errors = [{"field": f"{field_name}.{i}.sku", "message": f"unknown SKU {sku!r}"}
              for i, (sku, _) in enumerate(lines) if sku not in catalogue]
    return catalogue, errors


def create(uow, cmd: commands.RequestParts, settings: Settings) -> Outcome:
    """A parts request over HTTP (warranty: the ticket's, ``warranty.py``): InvalidInput for
    unknown SKUs; auto-approved (and fulfilled) when the rule allows, else waits for the
    manager. (The role is checked at the HTTP entrypoint, before the body.)"""
    branch = branch_for(cmd.principal, cmd.branch, settings.branches)
    lines = list(cmd.lines)
    catalogue, errors = _lines_or_errors(uow, lines)
    if errors:
        raise InvalidInput(errors)
    in_warranty = warranty.in_warranty_for(uow, cmd.ticket_no, branch)
    return _create(uow, settings, catalogue, ticket_no=cmd.ticket_no, branch=branch,
                   in_warranty=in_warranty, lines=lines, requested_by=cmd.principal.actor,
                   note=cmd.note, source="http")


def on_parts_requested(uow, env: Envelope, settings: Settings) -> Outcome | None:
    """``parts_requested`` from dispatch. A request naming unknown SKUs, or arriving after the
    ticket's ``job_completed`` (late or redelivered), is recorded as rejected and answered
    with ``parts_request_rejected``: it reserves nothing."""
    ask = PartsRequestedV1.model_validate(env.data)
    branch = env.branch
    if branch not in settings.branches:
        raise PermanentError(f"parts_requested for {ask.ticket_no} names no known branch "
                             f"({branch!r})")
    lines = [(line.sku, line.quantity) for line in ask.lines]
    if uow.requests.by_event(str(env.event_id)) is not None:
        return None
    warranty.record_dispatch_decision(uow, ask.ticket_no, branch, ask.in_warranty)
    catalogue, errors = _lines_or_errors(uow, lines)
    now = utcnow()
    completed = CompletedJobs(uow.session).completed_at(ask.ticket_no)
    if completed is not None:
        # a late or redelivered request (the events of a ticket are not ordered across
        # instances): a finished job gets no stock, the request is answered as rejected
        errors = [{"field": "ticket_no", "message": (
            f"the job of ticket {ask.ticket_no} was already completed "
            f"({completed.isoformat()}): nothing is reserved for it")}]
    if errors:
        req = rq.PartsRequest(new_id("PR"), ask.ticket_no, branch, ask.in_warranty,
                              tuple(rq.RequestLine.of(catalogue[s], q)
                                    for s, q in lines if s in catalogue),
                              ask.requested_by, now, source="dispatch", note=ask.note)
        reason = "; ".join(e["message"] for e in errors)
        req.reject("parts", now, reason)
        uow.requests.add(req, str(env.event_id))
        _publish_rejected(uow, req)
        return Outcome(request_view(uow, req))
    return _create(uow, settings, catalogue, ticket_no=ask.ticket_no, branch=branch,
                   in_warranty=ask.in_warranty, lines=lines, requested_by=ask.requested_by,
                   note=ask.note, source="dispatch", source_event_id=str(env.event_id))


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
        book = open_book(uow, now)
        outcome.backorders = _approve_and_fulfil(uow, book, req, settings, catalogue)
        finish_book(uow, book)
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
        uow.publish("parts_transfer_started", transfer_data(transfer),
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


# -- decisions and fulfilment -----------------------------------------------------------------
def _locked_request(uow, principal: Principal, request_id: str) -> rq.PartsRequest:
    """Lock the request's SKUs, then the request (the platform's lock order)."""
    req = uow.requests.get(request_id)
    if req is None or not principal.can_access(req.branch):
        raise NotFound(f"no parts request {request_id}")
    uow.catalogue.lock(req.quantities())
    return uow.requests.get(request_id, lock=True)


def _decide(uow, cmd, *roles: str) -> tuple[rq.PartsRequest, datetime]:
    """The role check first, then the request (locked after its SKUs), and the time of the
    change."""
    cmd.principal.require_role(*roles)
    return _locked_request(uow, cmd.principal, cmd.request_id), utcnow()


def approve(uow, cmd: commands.ApproveRequest, settings: Settings) -> Outcome:
    req, now = _decide(uow, cmd, "manager")
    req.approve(cmd.principal.actor, now, note=cmd.note)
    book = open_book(uow, now)
    raised = _approve_and_fulfil(uow, book, req, settings,
                                 uow.catalogue.get_many(req.quantities()))
    finish_book(uow, book)
    uow.requests.save(req, now)
    return Outcome(request_view(uow, req), raised)


def reject(uow, cmd: commands.RejectRequest) -> Outcome:
    req, now = _decide(uow, cmd, "manager")
    req.reject(cmd.principal.actor, now, cmd.reason)
    uow.requests.save(req, now)
    _publish_rejected(uow, req)
    return Outcome(request_view(uow, req))


def ship(uow, cmd: commands.ShipRequest) -> Outcome:
    """Issue every reserved part still on the shelf to the engineer / the site."""
    req, now = _decide(uow, cmd, "warehouse", "manager")
    actor = cmd.principal.actor
    holds = [h for h in uow.ledger.holds([req.request_id]) if h.shelf]
    if not holds:
        raise Conflict(f"parts request {cmd.request_id} has nothing reserved on the shelf to ship")
    req.ship(actor, now)
    book = open_book(uow, now)
    for h in holds:
        book.post(model.movement(model.SHIP, req.branch, h.sku, h.shelf, now,
                                 ticket_no=req.ticket_no, request_id=req.request_id,
                                 actor=actor))
    finish_book(uow, book)
    uow.requests.save(req, now)
    uow.publish("parts_shipped", {
        "request_id": req.request_id, "ticket_no": req.ticket_no, "warehouse": req.branch,
        "lines": [{"sku": h.sku, "quantity": h.shelf} for h in holds],
        "shipped_by": actor, "shipped_at": now.isoformat()},
        ticket_no=req.ticket_no, branch=req.branch)
    return Outcome(request_view(uow, req))


def deliver(uow, cmd: commands.DeliverRequest) -> Outcome:
    req, now = _decide(uow, cmd, "engineer", "warehouse", "dispatcher", "manager")
    req.deliver(cmd.principal.actor, now)
    uow.requests.save(req, now)
    uow.publish("parts_delivered", {
        "request_id": req.request_id, "ticket_no": req.ticket_no,
        "delivered_by": cmd.principal.actor, "delivered_at": now.isoformat()},
        ticket_no=req.ticket_no, branch=req.branch)
    return Outcome(request_view(uow, req))


def return_unused(uow, cmd: commands.ReturnUnused) -> Outcome:
    """The engineer brought back the parts the job did not use: release them to stock."""
    req, now = _decide(uow, cmd, "warehouse", "manager")
    req.return_unused(cmd.principal.actor, now)
    return _released(uow, req, now, cmd.principal.actor)


def cancel(uow, cmd: commands.CancelRequest) -> Outcome:
    """Before anything was shipped: release the reservations and cancel open backorders
    (parts already in transfer arrive into the branch's stock)."""
    req, now = _decide(uow, cmd, "dispatcher", "manager", "engineer")
    req.cancel(cmd.principal.actor, now, cmd.reason)
    return _released(uow, req, now, cmd.principal.actor, backorders=True)


def _released(uow, req: rq.PartsRequest, now: datetime, actor: str,
              backorders: bool = False) -> Outcome:
    """Release everything the request holds (and cancel its open backorders)."""
    book = open_book(uow, now)
    release(book, req, uow.ledger.holds([req.request_id]), actor)
    if backorders:
        cancel_backorders(uow, req.request_id, now)
    finish_book(uow, book)
    uow.requests.save(req, now)
    return Outcome(request_view(uow, req))


def release(book: StockBook, req: rq.PartsRequest, holds: list[Hold], actor: str) -> None:
    """Lift what the request holds: issued parts brought back, then parts on the shelf."""
    for h in holds:
        if h.issued:
            book.post(model.movement(model.RELEASE, req.branch, h.sku, h.issued, book.now,
                                     issued=True, ticket_no=req.ticket_no,
                                     request_id=h.request_id, actor=actor))
        if h.shelf:
            book.post(model.movement(model.RELEASE, req.branch, h.sku, h.shelf, book.now,
                                     ticket_no=req.ticket_no, request_id=h.request_id,
                                     actor=actor))


def cancel_backorders(uow, request_id: str, now: datetime) -> None:
    for b in uow.backorders.for_request(request_id, status="open"):
        uow.backorders.save(b.cancel(now))
