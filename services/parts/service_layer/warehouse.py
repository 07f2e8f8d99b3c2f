"""A warehouse's own movements (receipts, write-offs, stocktakes) and its reorder points."""
from __future__ import annotations

from aftersales.contracts.envelope import utcnow
from aftersales.errors import InvalidInput
from aftersales.scoping import branch_for

from ..domain import model
from ..domain.model import StockPosition
from . import commands
from .common import finish_book, open_book

MOVEMENT_KINDS = ("receive", "scrap", "stocktake")


def record_movement(uow, cmd: commands.RecordMovement, branches: dict) -> dict:
    """A warehouse's own movement: a receipt, a write-off (scrap, from available stock only)
    or a stocktake (``counted`` on the shelf → an adjustment of the difference)."""
    principal, kind, sku = cmd.principal, cmd.kind, cmd.sku
    principal.require_role("warehouse", "manager")
    warehouse = branch_for(principal, cmd.branch, branches)
    if kind not in MOVEMENT_KINDS:
        raise InvalidInput([{"field": "kind", "message": f"must be one of {', '.join(MOVEMENT_KINDS)}"}])
    if kind == "stocktake":
        if cmd.counted is None:
            raise InvalidInput([{"field": "counted", "message": "is required for a stocktake"}])
    elif cmd.quantity is None:
        raise InvalidInput([{"field": "quantity", "message": f"is required for a {kind}"}])
    if not uow.catalogue.get_many([sku]):
        raise InvalidInput([{"field": "sku", "message": f"unknown SKU {sku!r}"}])
    uow.catalogue.lock([sku])
    now = utcnow()
    book = open_book(uow, now)
    before = book.position(warehouse, sku)
    actor = principal.actor
    if kind == "stocktake":
        delta = model.stocktake(before, cmd.counted)
        if delta:
            book.post(model.movement(model.ADJUST, warehouse, sku, delta, now,
                                     note=cmd.note or f"stocktake: counted {cmd.counted}",
                                     actor=actor))
    elif kind == "receive":
        book.post(model.movement(model.RECEIVE, warehouse, sku, cmd.quantity, now,
                                 note=cmd.note, actor=actor))
    else:
        book.post(model.movement(model.SCRAP, warehouse, sku, cmd.quantity, now,
                                 note=cmd.note, actor=actor))
    finish_book(uow, book)
    after = book.position(warehouse, sku)
    return {"branch": warehouse, "sku": sku, "kind": kind, "before": _position(before),
            "after": _position(after)}


def _position(p: StockPosition) -> dict:
    return {"on_hand": p.on_hand, "reserved": p.reserved, "issued": p.issued,
            "available": p.available}


def set_reorder_point(uow, cmd: commands.SetReorderPoint, branches: dict) -> dict:
    """Set (or, with null, clear back to the catalogue's default) a warehouse's reorder point
    for a SKU; if available stock is already at or below it, ``reorder_needed`` goes out."""
    principal, sku = cmd.principal, cmd.sku
    principal.require_role("warehouse", "manager")
    warehouse = branch_for(principal, cmd.branch, branches)
    parts = uow.catalogue.get_many([sku])
    if not parts:
        raise InvalidInput([{"field": "sku", "message": f"unknown SKU {sku!r}"}])
    uow.catalogue.lock([sku])
    uow.reorder.set_point(warehouse, sku, cmd.reorder_point)
    book = open_book(uow, utcnow())
    book.touch(warehouse, sku)
    raised = finish_book(uow, book)
    state = uow.reorder.get(warehouse, sku, parts[sku].reorder_point)
    return {"branch": warehouse, "sku": sku, "reorder_point": state.reorder_point,
            "below": state.below, "reorder_needed": bool(raised)}
