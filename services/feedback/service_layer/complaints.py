"""Complaints: registered by agents (or from intake's complaint tickets, service_layer/facts.py),
worked on (notes, owner), resolved and confirmed by the customer. Their escalation when
overdue is the scheduler's (service_layer/scan.py)."""
from __future__ import annotations

from aftersales.contracts.envelope import utcnow
from aftersales.errors import InvalidInput
from aftersales.scoping import branch_for

from ..domain import complaints as cp
from . import commands
from .common import STAFF_ROLES, Outcome, Settings, visible
from .views import complaint_doc


def publish_registered(uow, c: cp.Complaint) -> None:
    uow.publish("complaint_registered", {
        "ticket_no": c.ticket_no, "complaint_id": c.complaint_id, "source": c.source,
        "severity": c.severity, "owner": c.owner, "deadline": c.deadline.isoformat(),
        "registered_at": c.registered_at.isoformat()}, ticket_no=c.ticket_no, branch=c.branch)


def register(uow, cmd: commands.RegisterComplaint, settings: Settings) -> Outcome:
    """An agent registers a complaint about a ticket (by phone, e-mail, in person)."""
    principal = cmd.principal
    principal.require_role(*STAFF_ROLES)
    b = branch_for(principal, cmd.branch, settings.branches)
    now = cmd.now or utcnow()
    job = uow.closed_jobs.get(cmd.ticket_no)
    if job is not None and job.branch != b:
        raise InvalidInput([{"field": "ticket_no",
                             "message": f"belongs to branch {job.branch}, not {b}"}])
    c = cp.register(cmd.ticket_no, b, "agent", cmd.severity, cmd.description, now,
                    owner=cmd.owner, deadline=cmd.deadline,
                    engineer_id=job.engineer_id if job else None)
    c.notes.append({"at": now.isoformat(), "by": principal.actor, "text": "registered"})
    uow.complaints.add(c)
    publish_registered(uow, c)
    return Outcome(view=complaint_doc(c, now), complaints=[(c.branch, c.severity)])


def _complaint(uow, cmd) -> cp.Complaint:
    """The complaint a staff command acts on (locked), or NotFound; a change the complaint's
    state refuses raises cp.ComplaintError (a 409)."""
    cmd.principal.require_role(*STAFF_ROLES)
    return visible(cmd.principal, uow.complaints.get(cmd.complaint_id), "complaint")


def add_note(uow, cmd: commands.AddComplaintNote) -> dict:
    now = cmd.now or utcnow()
    c = _complaint(uow, cmd)
    c.add_note(cmd.principal.actor, cmd.text, now)
    uow.complaints.save(c)
    return complaint_doc(c, now)


def assign(uow, cmd: commands.AssignComplaint) -> dict:
    now = cmd.now or utcnow()
    c = _complaint(uow, cmd)
    c.assign(cmd.owner, cmd.principal.actor, now)
    uow.complaints.save(c)
    return complaint_doc(c, now)


def resolve(uow, cmd: commands.ResolveComplaint) -> dict:
    now = cmd.now or utcnow()
    c = _complaint(uow, cmd)
    by = cmd.principal.actor
    c.resolve(by, cmd.text, now)
    uow.publish("complaint_resolved", {
        "ticket_no": c.ticket_no, "complaint_id": c.complaint_id, "resolution": c.resolution,
        "resolved_by": by, "resolved_at": now.isoformat()}, ticket_no=c.ticket_no,
        branch=c.branch)
    uow.complaints.save(c)
    return complaint_doc(c, now)


def confirm(uow, cmd: commands.ConfirmComplaint) -> dict:
    now = cmd.now or utcnow()
    c = _complaint(uow, cmd)
    c.confirm(bool(cmd.satisfied), now, cmd.note)
    uow.publish("complaint_confirmed", {
        "ticket_no": c.ticket_no, "complaint_id": c.complaint_id,
        "satisfied": bool(cmd.satisfied), "confirmed_at": now.isoformat()},
        ticket_no=c.ticket_no, branch=c.branch)
    uow.complaints.save(c)
    return complaint_doc(c, now)
