"""Parts' use cases. Each runs in one unit of work: ledger entries, outgoing events and the
processed event id commit together."""
from __future__ import annotations

import logging

from aftersales.auth import Principal
from aftersales.contracts.envelope import Envelope, utcnow
from aftersales.contracts.events import JobCompletedV1
from aftersales.errors import InvalidInput, PermanentError

from ..domain import model

log = logging.getLogger(__name__)


def consume_for_job(uow, env: Envelope, branches: dict) -> model.ConsumptionPlan | None:
    """``job_completed``: take the parts fitted from the job's branch warehouse and publish
    ``parts_consumed`` (lines taken, and shortages that were not). Idempotent by event id."""
    job = JobCompletedV1.model_validate(env.data)
    warehouse = env.branch
    if job.parts_used and warehouse not in branches:
        raise PermanentError(f"job_completed for {env.ticket_no} names no known branch "
                             f"warehouse ({warehouse!r})")
    with uow:
        if uow.seen(env.event_id):
            return None
        uow.record_processed(env.event_id, env.type)
        if not job.parts_used:
            uow.commit()
            return None
        lines = [model.Line(p.sku, p.quantity, p.serial_no) for p in job.parts_used]
        skus = sorted({line.sku for line in lines})
        uow.catalogue.lock(skus)
        plan = model.plan_consumption(uow.ledger.on_hand(warehouse, skus), lines)
        for entry in plan.entries(warehouse, utcnow(), job.ticket_no, str(env.event_id)):
            uow.ledger.append(entry)
        uow.publish("parts_consumed", {
            "ticket_no": job.ticket_no, "warehouse": warehouse,
            "lines": [line.as_dict() for line in plan.consume],
            "shortages": [line.as_dict() for line in plan.shortages],
        }, ticket_no=job.ticket_no, branch=warehouse)
        uow.commit()
    if plan.shortages:
        log.warning("%s: short of %s in %s", job.ticket_no,
                    ", ".join(f"{s.sku}×{s.quantity}" for s in plan.shortages), warehouse)
    return plan


def _warehouse(principal: Principal, branch: str | None, branches: dict) -> str:
    """The warehouse a request may read: its ``branch`` (a branch key's own by default)."""
    if not branch:
        if principal.is_hq:
            raise InvalidInput([{"field": "branch", "message": "is required for an HQ key"}])
        branch = principal.branch
    if branch not in branches:
        raise InvalidInput([{"field": "branch", "message":
                             f"unknown branch {branch!r}; known: {', '.join(sorted(branches))}"}])
    principal.require_branch(branch)
    return branch


def stock_view(uow, principal: Principal, branch: str | None, branches: dict) -> dict:
    warehouse = _warehouse(principal, branch, branches)
    with uow:
        catalogue = uow.catalogue.all()
        levels = uow.ledger.on_hand(warehouse)
    return {"branch": warehouse, "stock": [
        {"sku": p.sku, "name": p.name, "unit": p.unit, "on_hand": levels.get(p.sku, 0)}
        for p in catalogue]}


def ledger_view(uow, principal: Principal, branch: str | None, ticket_no: str | None,
                branches: dict, limit: int = 200) -> dict:
    warehouse = _warehouse(principal, branch, branches)
    with uow:
        entries = uow.ledger.entries(warehouse, ticket_no or None, limit)
    return {"branch": warehouse, "ticket_no": ticket_no or None, "entries": [
        {"warehouse": e.warehouse, "sku": e.sku, "quantity": e.quantity, "kind": e.kind,
         "ticket_no": e.ticket_no, "serial_no": e.serial_no, "event_id": e.event_id,
         "created_at": e.created_at.isoformat()} for e in entries]}
