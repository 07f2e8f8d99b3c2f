"""Transfers between branch warehouses and backorders with suppliers: their arrival into
stock, reserved for the request they were for (if that request still needs them). The SKUs
are locked before the transfer or backorder (the platform's lock order)."""
from __future__ import annotations

from aftersales.contracts.envelope import utcnow
from aftersales.errors import NotFound

from ..domain import model, requests as rq
from ..domain.stock import StockBook
from . import commands
from .common import Outcome, finish_book, open_book
from .views import backorder_view, transfer_view


def receive_transfer(uow, cmd: commands.ReceiveTransfer) -> Outcome:
    """The destination warehouse received a transfer: into its stock, and reserved for the
    request it was sent for (if that request still needs it)."""
    principal = cmd.principal
    principal.require_role("warehouse", "manager")
    t = uow.transfers.get(cmd.transfer_id)
    if t is None or not principal.can_access(t.to_warehouse):
        raise NotFound(f"no transfer {cmd.transfer_id}")
    uow.catalogue.lock(line.sku for line in t.lines)
    t = uow.transfers.get(cmd.transfer_id, lock=True)
    now = utcnow()
    t = t.receive(principal.actor, now)
    uow.transfers.save(t)
    book = open_book(uow, now)
    for line in t.lines:
        book.post(model.movement(model.TRANSFER_IN, t.to_warehouse, line.sku, line.quantity,
                                 now, ticket_no=t.ticket_no, request_id=t.request_id,
                                 ref=t.transfer_id, note=f"from {t.from_warehouse}",
                                 actor=principal.actor))
    _reserve_arrival(uow, book, t.request_id, t.to_warehouse, t.lines,
                     transfer_id=t.transfer_id)
    finish_book(uow, book)
    return Outcome(transfer_view(t))


def receive_backorder(uow, cmd: commands.ReceiveBackorder) -> Outcome:
    """The supplier delivered a backordered line: into stock, reserved for its request."""
    principal = cmd.principal
    principal.require_role("warehouse", "manager")
    b = uow.backorders.get(cmd.backorder_id)
    if b is None or not principal.can_access(b.warehouse):
        raise NotFound(f"no backorder {cmd.backorder_id}")
    uow.catalogue.lock([b.sku])
    b = uow.backorders.get(cmd.backorder_id, lock=True)
    now = utcnow()
    b = b.receive(now)
    uow.backorders.save(b)
    book = open_book(uow, now)
    book.post(model.movement(model.RECEIVE, b.warehouse, b.sku, b.quantity, now,
                             ticket_no=b.ticket_no, request_id=b.request_id,
                             ref=b.backorder_id, note="backorder received",
                             actor=principal.actor))
    _reserve_arrival(uow, book, b.request_id, b.warehouse, (model.Line(b.sku, b.quantity),),
                     backorder_id=b.backorder_id)
    finish_book(uow, book)
    return Outcome(backorder_view(b))


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


def _request_complete(uow, request_id: str) -> bool:
    """Nothing of the request is still in transfer or backordered."""
    return not uow.backorders.for_request(request_id, status="open") and not any(
        t.status == "in_transit" for t in uow.transfers.for_request(request_id))
