"""Dispatch's use cases. Each runs in one unit of work: state, outgoing events and the
processed event id commit together."""
from __future__ import annotations

import logging

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aftersales.auth import Forbidden, Principal
from aftersales.contracts.envelope import Envelope, utcnow
from aftersales.contracts.events import PartLine, TicketOpenedV1
from aftersales.errors import Conflict, InvalidInput, NotFound, PermanentError, pydantic_errors

from ..domain import model

log = logging.getLogger(__name__)

ACT_ROLES = ("engineer", "dispatcher", "manager")   # (and admin) may move a job along
MAX_LIST = 500


# -- consumed events -------------------------------------------------------------------------
def handle_event(uow, env: Envelope) -> object:
    """Route an event from dispatch's queue to its use case; types dispatch does not know
    (yet) are acknowledged and ignored."""
    handler = EVENT_HANDLERS.get(env.type)
    if handler is None:
        log.info("dispatch ignores %s events (event %s)", env.type, env.event_id)
        return None
    return handler(uow, env)


def assign_ticket(uow, env: Envelope) -> model.Assignment | None:
    """``ticket_opened``: open a job for a ticket that needs a visit and assign it (or
    escalate it).

    Ignores repeats (``duplicate: true``) and tickets that need no visit. Idempotent by
    ``event_id`` (inbox) and by ticket: a second ``ticket_opened`` for a ticket that already
    has a job changes nothing."""
    ticket = TicketOpenedV1.model_validate(env.data)
    if ticket.duplicate or not ticket.needs_visit:
        log.info("%s: nothing to dispatch (duplicate=%s, needs_visit=%s)", ticket.ticket_no,
                 ticket.duplicate, ticket.needs_visit)
        return None
    if not env.branch:
        raise PermanentError(f"ticket_opened for {ticket.ticket_no} names no branch")
    with uow:
        if uow.seen(env.event_id):
            return None
        uow.record_processed(env.event_id, env.type)
        roster = uow.engineers.of_branch(env.branch, lock=True)   # serialises the branch
        if uow.jobs.get(ticket.ticket_no) is not None:
            log.info("%s already has a job; event %s changes nothing", ticket.ticket_no,
                     env.event_id)
            uow.commit()
            return None
        needs = model.Needs(ticket.category, ticket.warranty.component_category)
        decision = model.assign(roster, uow.jobs.workload(env.branch), needs)
        now = utcnow()
        job = model.Job.open(ticket.ticket_no, env.branch, ticket.priority, needs,
                             ticket.received_at, decision, now)
        uow.jobs.add(job, str(env.event_id))
        uow.jobs.add_assignment(job.ticket_no, decision, now)
        if decision.engineer:
            uow.publish("engineer_assigned", {
                "ticket_no": job.ticket_no, "engineer_id": decision.engineer.engineer_id,
                "engineer_name": decision.engineer.name, "reason": decision.reason},
                ticket_no=job.ticket_no, branch=job.branch)
        else:
            uow.publish("assignment_failed", {
                "ticket_no": job.ticket_no, "reason": decision.reason,
                "escalated_to": decision.escalated_to},
                ticket_no=job.ticket_no, branch=job.branch)
        uow.commit()
    log.info("%s: %s", job.ticket_no, f"assigned to {job.engineer_id}" if decision.engineer
             else f"escalated to {decision.escalated_to}")   # ids only: the reason names people
    return decision


EVENT_HANDLERS = {"ticket_opened": assign_ticket}


# -- the engineer's steps -------------------------------------------------------------------
class CompleteBody(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    summary: str = Field(min_length=1, max_length=5000)
    parts_used: list[PartLine] = Field(default_factory=list, max_length=100)


def _visible_job(uow, principal: Principal, ticket_no: str, lock: bool = False) -> model.Job:
    job = uow.jobs.get(ticket_no, lock=lock)
    if job is None or not principal.can_access(job.branch):
        raise NotFound(f"no job {ticket_no}")
    return job


def act(uow, principal: Principal, ticket_no: str, action: str, body: dict) -> dict:
    """``accept`` | ``check_in`` | ``complete`` a job. Engineers act only on their own jobs;
    dispatchers and managers of the job's branch (or HQ) on any of it."""
    principal.require_role(*ACT_ROLES)
    done = None
    if action == "complete":
        try:
            done = CompleteBody.model_validate(body)
        except ValidationError as exc:
            raise InvalidInput(pydantic_errors(exc)) from None
    now = utcnow()
    with uow:
        job = _visible_job(uow, principal, ticket_no, lock=True)
        if principal.role == "engineer" and (not principal.engineer_id
                                             or principal.engineer_id != job.engineer_id):
            raise Forbidden(f"job {ticket_no} is not assigned to engineer {principal.engineer_id}")
        try:
            if action == "accept":
                job.accept(now)
                uow.publish("job_accepted", {"ticket_no": job.ticket_no,
                                             "engineer_id": job.engineer_id, "accepted_at": now},
                            ticket_no=job.ticket_no, branch=job.branch)
            elif action == "check_in":
                job.check_in(now)
                uow.publish("engineer_checked_in", {"ticket_no": job.ticket_no,
                                                    "engineer_id": job.engineer_id,
                                                    "checked_in_at": now},
                            ticket_no=job.ticket_no, branch=job.branch)
            elif action == "complete":
                parts = [p.model_dump(mode="json") for p in done.parts_used]
                job.complete(now, done.summary, parts)
                uow.publish("job_completed", {"ticket_no": job.ticket_no,
                                              "engineer_id": job.engineer_id,
                                              "completed_at": now, "summary": done.summary,
                                              "parts_used": parts},
                            ticket_no=job.ticket_no, branch=job.branch)
            else:
                raise ValueError(f"unknown action {action!r}")
        except model.InvalidTransition as exc:
            raise Conflict(str(exc)) from None
        uow.jobs.save(job)
        history = uow.jobs.assignments(ticket_no)
        uow.commit()
    log.info("%s: %s by %s (%s)", ticket_no, action, principal.key_id, principal.role)
    return job_view(job, history)


# -- reading --------------------------------------------------------------------------------
def _iso(dt) -> str | None:
    return dt.isoformat() if dt is not None else None


def job_view(job: model.Job, history: list[dict] | None = None) -> dict:
    view = {
        "ticket_no": job.ticket_no, "branch": job.branch, "status": job.status,
        "priority": job.priority, "category": job.category, "product_line": job.product_line,
        "received_at": _iso(job.received_at), "engineer_id": job.engineer_id,
        "engineer_name": job.engineer_name, "escalated_to": job.escalated_to,
        "assigned_at": _iso(job.assigned_at), "accepted_at": _iso(job.accepted_at),
        "checked_in_at": _iso(job.checked_in_at), "completed_at": _iso(job.completed_at),
        "summary": job.summary, "parts_used": job.parts_used,
    }
    if history is not None:
        view["assignments"] = [{**a, "decided_at": _iso(a["decided_at"])} for a in history]
    return view


def get_job(uow, principal: Principal, ticket_no: str) -> dict:
    with uow:
        job = _visible_job(uow, principal, ticket_no)
        return job_view(job, uow.jobs.assignments(ticket_no))


def list_jobs(uow, principal: Principal, args) -> dict:
    """The key's branch's jobs (HQ: all, or ``branch=``), optionally by ``status``; an
    engineer's key lists that engineer's jobs only. Oldest received first."""
    errors = []
    status = args.get("status") or None
    if status is not None and status not in model.STATES:
        errors.append({"field": "status",
                       "message": f"must be one of {', '.join(model.STATES)}; got {status!r}"})
    raw_limit = args.get("limit") or "100"
    limit = int(raw_limit) if raw_limit.isdigit() else 0
    if not 1 <= limit <= MAX_LIST:
        errors.append({"field": "limit", "message": f"must be a whole number from 1 to {MAX_LIST}"})
    if errors:
        raise InvalidInput(errors)
    branch = args.get("branch") or None
    if branch is not None:
        principal.require_branch(branch)
    elif not principal.is_hq:
        branch = principal.branch
    engineer_id = None
    if principal.role == "engineer":
        if not principal.engineer_id:
            raise Forbidden("this engineer key names no engineer")
        engineer_id = principal.engineer_id
    with uow:
        found = uow.jobs.find(branch=branch, status=status, engineer_id=engineer_id, limit=limit)
    return {"jobs": [job_view(j) for j in found], "count": len(found)}
