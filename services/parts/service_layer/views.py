"""Parts' read side: the views of requests, transfers, backorders and returns, the lists, the
catalogue, stock and the ledger. A view opens its own unit of work (one snapshot where it
reads several queries) and commits nothing; views do not go through the bus.

``request_view`` and the other ``*_view(row)`` functions also shape what the use cases
answer (inside their unit of work)."""
from __future__ import annotations

from aftersales.auth import Principal
from aftersales.errors import InvalidInput, NotFound
from aftersales.localtime import iso
from aftersales.scoping import branch_for, scope

from ..domain import model, requests as rq, returns as rma
from ..domain.model import LedgerEntry, StockPosition


# -- views of one row (also the use cases' answers) -------------------------------------------
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
        "approval": {"by": req.decided_by, "at": iso(req.decided_at),
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


def transfer_data(t: rq.Transfer) -> dict:
    """A transfer as ``parts_transfer_started`` carries it."""
    return {"transfer_id": t.transfer_id, "from_warehouse": t.from_warehouse,
            "to_warehouse": t.to_warehouse,
            "lines": [{"sku": l.sku, "quantity": l.quantity} for l in t.lines],
            "expected_at": t.expected_at.isoformat(), "request_id": t.request_id,
            "ticket_no": t.ticket_no}


def transfer_view(t: rq.Transfer) -> dict:
    return {**transfer_data(t), "status": t.status, "created_at": t.created_at.isoformat(),
            "received_at": iso(t.received_at), "received_by": t.received_by}


def backorder_view(b: rq.Backorder) -> dict:
    return {"backorder_id": b.backorder_id, "request_id": b.request_id, "ticket_no": b.ticket_no,
            "warehouse": b.warehouse, "sku": b.sku, "quantity": b.quantity,
            "lead_time_days": b.lead_time_days, "expected_at": b.expected_at.isoformat(),
            "status": b.status, "created_at": b.created_at.isoformat(),
            "closed_at": iso(b.closed_at)}


def return_view(r: rma.PartReturn) -> dict:
    return {"return_id": r.return_id, "branch": r.branch, "ticket_no": r.ticket_no,
            "sku": r.sku, "serial_no": r.serial_no, "model": r.model, "fault": r.fault,
            "status": r.status, "decision": r.decision, "note": r.note,
            "received_by": r.received_by, "received_at": r.received_at.isoformat(),
            "inspected_by": r.inspected_by, "inspected_at": iso(r.inspected_at)}


def entry_view(e: LedgerEntry) -> dict:
    return {"warehouse": e.warehouse, "sku": e.sku, "quantity": e.quantity, "kind": e.kind,
            "reserved": e.reserved, "issued": e.issued, "ticket_no": e.ticket_no,
            "serial_no": e.serial_no, "request_id": e.request_id, "ref": e.ref,
            "note": e.note, "actor": e.actor, "event_id": e.event_id,
            "created_at": e.created_at.isoformat()}


# -- requests, transfers, backorders, returns --------------------------------------------------
def get_request(uow, principal: Principal, request_id: str) -> dict:
    with uow:
        uow.snapshot()
        req = uow.requests.get(request_id)
        if req is None or not principal.can_access(req.branch):
            raise NotFound(f"no parts request {request_id}")
        return request_view(uow, req)


def list_requests(uow, principal: Principal, branches: dict, branch: str | None,
                  status: str | None, ticket_no: str | None, limit: int) -> dict:
    if status and status not in rq.STATUSES:
        raise InvalidInput([{"field": "status", "message": f"must be one of {', '.join(rq.STATUSES)}"}])
    where = scope(principal, branch, branches)
    with uow:
        found = uow.requests.search(where, status, ticket_no, limit)
        return {"branch": where, "requests": [
            {"request_id": r.request_id, "ticket_no": r.ticket_no, "branch": r.branch,
             "status": r.status, "in_warranty": r.in_warranty, "total": str(r.total),
             "auto_approved": r.auto_approved, "created_at": r.created_at.isoformat(),
             "lines": [{"sku": l.sku, "quantity": l.quantity} for l in r.lines]}
            for r in found]}


def list_transfers(uow, principal, branches, branch, status, limit) -> dict:
    where = scope(principal, branch, branches)
    with uow:
        return {"branch": where, "transfers": [transfer_view(t) for t in
                                               uow.transfers.search(where, status, limit)]}


def list_backorders(uow, principal, branches, branch, status, limit) -> dict:
    where = scope(principal, branch, branches)
    with uow:
        return {"branch": where, "backorders": [backorder_view(b) for b in
                                                uow.backorders.search(where, status, limit)]}


def list_returns(uow, principal, branches, branch, status, limit) -> dict:
    where = scope(principal, branch, branches)
    with uow:
        return {"branch": where, "returns": [return_view(r) for r in
                                             uow.returns.search(where, status, limit=limit)]}


def get_return(uow, principal: Principal, return_id: str) -> dict:
    with uow:
        r = uow.returns.get(return_id)
        if r is None or not principal.can_access(r.branch):
            raise NotFound(f"no return {return_id}")
        return return_view(r)


# -- catalogue, stock and ledger ---------------------------------------------------------------
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
        uow.snapshot()
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
        entry_view(e) for e in entries]}
