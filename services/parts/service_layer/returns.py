"""Returns of faulty parts (RMA) and QC's inspection."""
from __future__ import annotations

from aftersales.contracts.envelope import utcnow
from aftersales.errors import InvalidInput, NotFound
from aftersales.scoping import branch_for

from ..domain import model, returns as rma
from . import commands
from .common import finish_book, new_id, open_book
from .views import return_view


def open_return(uow, cmd: commands.OpenReturn, branches: dict) -> dict:
    """A part removed on site came back: it waits for QC (not stock until restocked)."""
    principal = cmd.principal
    principal.require_role("engineer", "warehouse", "qc", "dispatcher", "manager")
    home = branch_for(principal, cmd.branch, branches)
    if not uow.catalogue.get_many([cmd.sku]):
        raise InvalidInput([{"field": "sku", "message": f"unknown SKU {cmd.sku!r}"}])
    now = utcnow()
    r = rma.PartReturn(new_id("RMA"), home, cmd.sku, cmd.serial_no, cmd.model, cmd.fault,
                       principal.actor, now, ticket_no=cmd.ticket_no)
    uow.returns.add(r)
    uow.publish("part_return_received", {
        "return_id": r.return_id, "ticket_no": r.ticket_no, "sku": r.sku,
        "serial_no": r.serial_no, "model": r.model, "fault": r.fault,
        "received_at": now.isoformat()}, ticket_no=r.ticket_no, branch=home)
    return return_view(r)


def inspect_return(uow, cmd: commands.InspectReturn) -> dict:
    """QC's decision. Restocked: a ``return`` movement into the branch warehouse. Design
    defect: ``design_defect_reported`` for R&D with the model and the fault."""
    principal, decision, note = cmd.principal, cmd.decision, cmd.note
    principal.require_role("qc")
    r = uow.returns.get(cmd.return_id)
    if r is None or not principal.can_access(r.branch):
        raise NotFound(f"no return {cmd.return_id}")
    if decision == rma.RESTOCKED:
        uow.catalogue.lock([r.sku])
    r = uow.returns.get(cmd.return_id, lock=True)
    now = utcnow()
    r = r.inspect(decision, principal.actor, now, note)
    uow.returns.save(r)
    if decision == rma.RESTOCKED:
        book = open_book(uow, now)
        book.post(model.movement(model.RETURN, r.branch, r.sku, 1, now,
                                 ticket_no=r.ticket_no, serial_no=r.serial_no,
                                 ref=r.return_id, note="repaired after QC",
                                 actor=principal.actor))
        finish_book(uow, book)
    uow.publish("part_return_inspected", {
        "return_id": r.return_id, "ticket_no": r.ticket_no, "sku": r.sku,
        "serial_no": r.serial_no, "model": r.model, "decision": decision, "note": note,
        "inspected_by": principal.actor, "inspected_at": now.isoformat()},
        ticket_no=r.ticket_no, branch=r.branch)
    if decision == rma.DESIGN_DEFECT:
        uow.publish("design_defect_reported", {
            "return_id": r.return_id, "ticket_no": r.ticket_no, "sku": r.sku,
            "serial_no": r.serial_no, "model": r.model, "fault": r.fault, "finding": note,
            "reported_by": principal.actor, "reported_at": now.isoformat()},
            ticket_no=r.ticket_no, branch=r.branch)
    return return_view(r)
