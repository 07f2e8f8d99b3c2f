"""The engineer's steps on a job, as a command table: ``STEPS`` maps each command to its small
function, the body class it validates and the roles that may take it; :func:`act` is the one
handler the bus calls for all of them (role, body, the job's lock, who may act on it, save,
the job's view). Every step's SLA stage completes in the same transaction (``sla.py``).

Engineers act only on their own jobs; dispatchers and managers of the job's branch (or HQ) on
any of it; the customer's sign-off and quote decision may also be recorded by an agent."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from pydantic import BaseModel

from aftersales.contracts.envelope import utcnow
from aftersales.errors import InvalidInput
from aftersales.money import money

from .. import bodies
from ..domain import model, quotes
from . import commands, sla
from .evidence import keep_signature, photo_refs
from .assigning import lock_branch_of, reassign
from .views import job_view, require_own, visible_job

log = logging.getLogger(__name__)

ACT_ROLES = ("engineer", "dispatcher", "manager")   # (and admin) may move a job along
SIGN_OFF_ROLES = ("engineer", "dispatcher", "manager", "agent")   # recorded for the customer


def publish(uow, job: model.Job, type_: str, data: dict) -> None:
    uow.publish(type_, {"ticket_no": job.ticket_no, **data}, ticket_no=job.ticket_no,
                branch=job.branch)


# -- the steps: (uow, policies, principal, job, body, now[, proof]) -> the engineer reassigned to
# or None (``proof``: the evidence store, for the steps marked ``keeps_evidence``)
def accept(uow, policies, principal, job: model.Job, data, now: datetime):
    job.accept(now)
    publish(uow, job, "job_accepted", {"engineer_id": job.engineer_id, "accepted_at": now})
    sla.complete_stage_in(uow, policies, job.ticket_no, "dispatch", now)


def decline(uow, policies, principal, job: model.Job, data: bodies.DeclineBody, now: datetime):
    eng = job.engineer_id
    job.decline(eng)
    publish(uow, job, "job_declined", {"engineer_id": eng, "reason": data.reason,
                                       "declined_at": now})
    return reassign(uow, policies, job, now, f"{eng} 拒单：{data.reason}")


def schedule(uow, policies, principal, job: model.Job, data: bodies.ScheduleBody, now: datetime):
    if data.window_to <= data.window_from:
        raise InvalidInput([{"field": "window_to", "message": "must be after window_from"}])
    job.schedule(data.window_from, data.window_to)
    publish(uow, job, "appointment_set", {"engineer_id": job.engineer_id,
                                          "window_from": data.window_from,
                                          "window_to": data.window_to, "agreed_at": now,
                                          "note": data.note})
    # agreeing a time with the customer is human contact
    sla.complete_stage_in(uow, policies, job.ticket_no, "response", now)


def depart(uow, policies, principal, job: model.Job, data: bodies.DepartBody, now: datetime):
    job.depart(now)
    publish(uow, job, "engineer_en_route", {"engineer_id": job.engineer_id, "departed_at": now,
                                            "eta": data.eta})


def check_in(uow, policies, principal, job: model.Job, data, now: datetime):
    first = job.check_in(now)
    publish(uow, job, "engineer_checked_in", {"engineer_id": job.engineer_id,
                                              "checked_in_at": now})
    if first:
        sla.complete_stage_in(uow, policies, job.ticket_no, "arrival", now)


def diagnose(uow, policies, principal, job: model.Job, data: bodies.DiagnoseBody, now: datetime):
    d = quotes.Diagnosis(data.cause, data.responsibility, data.warranty_void, data.void_reason,
                         data.findings)
    errors = d.validate()
    if errors:
        raise InvalidInput(errors)
    job.diagnose(d)
    publish(uow, job, "job_diagnosed", {**job.diagnosis, "engineer_id": job.engineer_id,
                                        "chargeable": job.chargeable, "diagnosed_at": now,
                                        "photos": photo_refs(uow, job.ticket_no)})


def quote(uow, policies, principal, job: model.Job, data: bodies.QuoteBody, now: datetime):
    if data.materials is not None:          # entered by hand: it wins
        q = quotes.Quote(data.materials, data.labour, data.travel, data.note)
    else:                                   # the parts service's prices
        try:
            q = job.quote_from_parts(data.labour, data.travel, data.note)
        except quotes.NoPartsPrices as exc:
            raise InvalidInput([{"field": "materials", "message": str(exc)}]) from None
    job.issue_quote(q, now)
    publish(uow, job, "quote_issued", {"engineer_id": job.engineer_id,
                                       "materials": money(q.materials), "labour": money(q.labour),
                                       "travel": money(q.travel), "total": q.total,
                                       "materials_source": q.materials_source,
                                       "parts_request_ids": list(q.parts_request_ids),
                                       "issued_at": now})


def quote_decision(uow, policies, principal, job: model.Job, data: bodies.QuoteDecisionBody,
                   now: datetime):
    job.decide_quote(data.approved, now, principal.actor)
    publish(uow, job, "quote_decided", {"approved": data.approved,
                                        "total": money(job.quote["total"]),
                                        "decided_at": now, "recorded_by": principal.actor})


def complete(uow, policies, principal, job: model.Job, data: bodies.CompleteBody, now: datetime):
    used = [p.model_dump(mode="json") for p in data.parts_used]
    job.complete(now, data.summary, used)
    publish(uow, job, "job_completed", {"engineer_id": job.engineer_id, "completed_at": now,
                                        "summary": data.summary, "parts_used": used})


def sign_off(uow, policies, principal, job: model.Job, data: bodies.SignOffBody, now: datetime,
             proof=None):
    if not data.accepted and not (data.reason or "").strip():
        raise InvalidInput([{"field": "reason", "message": "a rejected sign-off needs the reason"}])
    if data.signature and not data.signed_by:
        raise InvalidInput([{"field": "signed_by", "message": "a signature needs the signer's "
                                                              "name"}])
    job.sign_off(data.accepted, now, data.signed_by)
    signature = (keep_signature(uow, proof, principal, job, data.signature,
                                data.signed_by, now) if data.signature else None)
    eng = job.engineer_id
    if data.accepted:
        publish(uow, job, "job_closed", {
            "engineer_id": eng, "priority": job.priority, "category": job.category,
            "completed_at": job.completed_at, "signed_off_at": now, "closed_at": now,
            "visits": max(job.visits, 1), "rework_count": job.rework_count,
            "first_time_fix": job.first_time_fix(), "signed_by": data.signed_by,
            "photos": photo_refs(uow, job.ticket_no),
            "signature": signature})
        sla.complete_stage_in(uow, policies, job.ticket_no, "resolution", now)
    else:
        publish(uow, job, "job_rework", {"engineer_id": eng, "reason": data.reason,
                                         "rejected_at": now, "rework_count": job.rework_count})


def report(uow, policies, principal, job: model.Job, data: bodies.ReportBody, now: datetime):
    job.report(now)
    uow.jobs.add_report(job.ticket_no, principal.engineer_id or job.engineer_id, now,
                        data.progress, data.percent)
    publish(uow, job, "progress_reported", {"engineer_id": job.engineer_id, "reported_at": now,
                                            "progress": data.progress, "percent": data.percent})


def parts(uow, policies, principal, job: model.Job, data: bodies.PartsBody, now: datetime):
    if not job.is_open or job.status in (model.COMPLETED, model.ESCALATED):
        raise model.InvalidTransition(
            f"cannot request parts for job {job.ticket_no}: it is {job.status!r}")
    publish(uow, job, "parts_requested", {
        "requested_by": principal.actor, "in_warranty": not job.chargeable,
        "lines": [{"sku": p.sku, "quantity": p.quantity} for p in data.lines],
        "note": data.note})


# -- the table ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    run: Callable
    body: type[BaseModel] | None = None        # None: no body (one sent is ignored)
    roles: tuple[str, ...] = ACT_ROLES
    reassigns: bool = False                    # may reassign: locks the roster first
    keeps_evidence: bool = False               # gets the evidence store (``proof=``)


STEPS: dict[type, Step] = {
    commands.AcceptJob: Step(accept),
    commands.DeclineJob: Step(decline, bodies.DeclineBody, reassigns=True),
    commands.SetAppointment: Step(schedule, bodies.ScheduleBody),
    commands.SetOut: Step(depart, bodies.DepartBody),
    commands.CheckIn: Step(check_in),
    commands.Diagnose: Step(diagnose, bodies.DiagnoseBody),
    commands.IssueQuote: Step(quote, bodies.QuoteBody),
    commands.DecideQuote: Step(quote_decision, bodies.QuoteDecisionBody, SIGN_OFF_ROLES),
    commands.CompleteJob: Step(complete, bodies.CompleteBody),
    commands.SignOff: Step(sign_off, bodies.SignOffBody, SIGN_OFF_ROLES, keeps_evidence=True),
    commands.ReportProgress: Step(report, bodies.ReportBody),
    commands.RequestParts: Step(parts, bodies.PartsBody),
}


def act(uow, cmd: commands.JobStep, policies, evidence=None) -> dict:
    """One step of the job (the command's entry in ``STEPS``): the role, then the body, then
    the job (locked; the roster first when the step may reassign). Returns the job's view
    with its assignment history."""
    step = STEPS[type(cmd)]
    principal, ticket_no = cmd.principal, cmd.ticket_no
    principal.require_role(*step.roles)
    data = bodies.validate(step.body, cmd.body) if step.body else None
    now = utcnow()
    if step.reassigns:
        lock_branch_of(uow, ticket_no)
    job = visible_job(uow, principal, ticket_no, lock=True)
    require_own(principal, job)
    try:
        extra = {"proof": evidence} if step.keeps_evidence else {}
        reassigned = step.run(uow, policies, principal, job, data, now, **extra)
    except ValueError as exc:       # the domain's refusal of a value (InvalidTransition: 409)
        raise InvalidInput([{"field": "(body)", "message": str(exc)}]) from None
    uow.jobs.save(job)
    history = uow.jobs.assignments(ticket_no)
    log.info("%s: %s by %s (%s)%s", ticket_no, step.run.__name__, principal.actor,
             principal.role, f"; reassigned to {reassigned}" if reassigned else "")
    return job_view(job, history)
