"""Dispatch's use cases. Each runs in one unit of work: state, outgoing events and the
processed event id commit together (SLA clocks included: see ``sla.py``)."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aftersales.auth import Forbidden, Principal
from aftersales.contracts.envelope import Envelope, utcnow
from aftersales.contracts.events import (DiagnosisCause, PartLine, PartsBackorderedV1,
                                         PartsDeliveredV1, PartsRequestApprovedV1,
                                         PartsRequestRejectedV1, PartsReservedV1,
                                         PartsShippedV1, PartsTransferStartedV1)
from aftersales.errors import Conflict, InvalidInput, NotFound, pydantic_errors

from aftersales.money import money

from ..domain import model, quotes, roster
from . import opening, sla
from .assigning import decide, lock_roster, publish_decision

log = logging.getLogger(__name__)

ACT_ROLES = ("engineer", "dispatcher", "manager")   # (and admin) may move a job along
SIGN_OFF_ROLES = ("engineer", "dispatcher", "manager", "agent")   # recorded for the customer
ASSIGN_ROLES = ("dispatcher", "manager")
MAX_LIST = 500
EARLY_EVENTS_KEPT_DAYS = 30   # events of tickets that never got a job are forgotten after this


def _validate(schema, body: dict):
    try:
        return schema.model_validate(body)
    except ValidationError as exc:
        raise InvalidInput(pydantic_errors(exc)) from None


# -- consumed events -------------------------------------------------------------------------
def handle_event(uow, env: Envelope, policies=None) -> object:
    """Route an event from dispatch's queue to its use case; types dispatch does not know
    (yet) are acknowledged and ignored."""
    handler = EVENT_HANDLERS.get(env.type)
    if handler is None:
        log.info("dispatch ignores %s events (event %s)", env.type, env.event_id)
        return None
    return handler(uow, env, policies)


def _contacted(uow, env, policies):
    return sla.on_customer_contacted(uow, policies, env)


def _reclassified(uow, env, policies):
    return opening.on_reclassified(uow, policies, env)


def ticket_ended(uow, env: Envelope, policies=None) -> None:
    """``ticket_cancelled`` / ``ticket_resolved`` (by intake): the open job is cancelled and
    every open SLA clock stops (neither met nor breached)."""
    ticket_no = env.data.get("ticket_no") or env.ticket_no
    at = env.occurred_at
    with uow:
        if uow.seen(env.event_id):
            return None
        uow.record_processed(env.event_id, env.type)
        lock_roster(uow, env.branch)          # serialised with the opening (lock order)
        job = uow.jobs.get(ticket_no, lock=True)
        if job is None:
            uow.jobs.add_early(ticket_no, env.type, at, dict(env.data))
            uow.kept.forget(ticket_no)          # a ticket kept without a visit: it has ended
        elif job.is_open:
            job.cancel(at)
            uow.jobs.save(job)
        n = sla.stop_in(uow, ticket_no, at)
        uow.commit()
    log.info("%s: %s; %d SLA clock(s) stopped", ticket_no, env.type, n)
    return None


def _approved(job: model.Job, e: PartsRequestApprovedV1) -> None:
    job.parts_approved(e.request_id, e.approved_at, [ln.model_dump() for ln in e.lines], e.total,
                       e.chargeable_total, e.in_warranty, e.approved_by, e.auto_approved)


PARTS_EVENTS = {
    "parts_request_approved": (PartsRequestApprovedV1, _approved),
    "parts_request_rejected": (PartsRequestRejectedV1,
                               lambda job, e: job.parts_rejected(e.request_id, e.rejected_at,
                                                                 e.reason)),
    "parts_reserved": (PartsReservedV1,
                       lambda job, e: job.parts_reserved(e.request_id, e.complete, e.transfer_id,
                                                         e.backorder_id)),
    "parts_transfer_started": (PartsTransferStartedV1,
                               lambda job, e: job.parts_transfer_started(
                                   e.request_id, e.transfer_id, e.expected_at)),
    "parts_backordered": (PartsBackorderedV1,
                          lambda job, e: job.parts_backordered(
                              e.request_id, [(ln.backorder_id, ln.expected_at) for ln in e.lines])),
    "parts_shipped": (PartsShippedV1, lambda job, e: job.parts_shipped(e.request_id, e.shipped_at)),
    "parts_delivered": (PartsDeliveredV1,
                        lambda job, e: job.parts_delivered(e.request_id, e.delivered_at)),
}


def parts_event(uow, env: Envelope, policies=None) -> bool:
    """A parts event about one of the job's parts requests (approved with prices, rejected,
    reserved, in transit, backordered, shipped, delivered): recorded on the job, for its quote
    and the expected arrival of the parts. Idempotent by ``event_id``; an event for a ticket
    without a job (or a transfer for no request) is recorded as processed and logged. True
    when a job was updated."""
    schema, apply = PARTS_EVENTS[env.type]
    event = schema.model_validate(env.data)
    ticket_no = getattr(event, "ticket_no", None) or env.ticket_no
    request_id = getattr(event, "request_id", None)
    with uow:
        if uow.seen(env.event_id):
            return False
        uow.record_processed(env.event_id, env.type)
        job = uow.jobs.get(ticket_no, lock=True) if ticket_no and request_id else None
        if job is not None:
            apply(job, event)
            uow.jobs.save(job)
        uow.commit()
    if job is None:
        log.info("%s (event %s, request %s): no job for ticket %s; recorded, nothing to do",
                 env.type, env.event_id, request_id, ticket_no)
        return False
    log.info("%s: parts request %s %s", ticket_no, request_id,
             next(r["status"] for r in job.parts_requests if r["request_id"] == request_id))
    return True


EVENT_HANDLERS = {"ticket_opened": opening.assign_ticket, "customer_contacted": _contacted,
                  "ticket_reclassified": _reclassified, "ticket_cancelled": ticket_ended,
                  "ticket_resolved": ticket_ended, **{t: parts_event for t in PARTS_EVENTS}}


# -- the engineer's steps -------------------------------------------------------------------
class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class CompleteBody(_Body):
    summary: str = Field(min_length=1, max_length=5000)
    parts_used: list[PartLine] = Field(default_factory=list, max_length=100)


class DeclineBody(_Body):
    reason: str = Field(min_length=1, max_length=2000)


class ScheduleBody(_Body):
    window_from: datetime
    window_to: datetime
    note: str | None = Field(default=None, max_length=2000)


class DepartBody(_Body):
    eta: datetime | None = None


class DiagnoseBody(_Body):
    cause: DiagnosisCause
    responsibility: str = Field(min_length=1, max_length=100)
    warranty_void: bool = False
    void_reason: str | None = Field(default=None, max_length=2000)
    findings: str | None = Field(default=None, max_length=5000)


class QuoteBody(_Body):
    materials: Decimal | None = Field(
        default=None, ge=0, max_digits=12, decimal_places=2,
        description="omitted: the parts service's chargeable total of the approved requests")
    labour: Decimal = Field(ge=0, max_digits=12, decimal_places=2)
    travel: Decimal = Field(ge=0, max_digits=12, decimal_places=2)
    note: str | None = Field(default=None, max_length=2000)


class QuoteDecisionBody(_Body):
    approved: bool


class SignOffBody(_Body):
    accepted: bool
    reason: str | None = Field(default=None, max_length=2000)
    signed_by: str | None = Field(default=None, max_length=100,
                                  description="the customer's signatory (not logged)")


class ReportBody(_Body):
    progress: str = Field(min_length=1, max_length=5000)
    percent: int | None = Field(default=None, ge=0, le=100)


class PartsBody(_Body):
    lines: list[PartLine] = Field(min_length=1, max_length=100)
    note: str | None = Field(default=None, max_length=2000)


BODIES = {"complete": CompleteBody, "decline": DeclineBody, "schedule": ScheduleBody,
          "depart": DepartBody, "diagnose": DiagnoseBody, "quote": QuoteBody,
          "quote_decision": QuoteDecisionBody, "sign_off": SignOffBody, "report": ReportBody,
          "parts": PartsBody}
ROLES_FOR = {"sign_off": SIGN_OFF_ROLES, "quote_decision": SIGN_OFF_ROLES}


REASSIGNING = ("decline",)      # steps that may reassign: they lock the roster first


def _lock_branch_of(uow, ticket_no: str) -> None:
    """Before locking a job that may be reassigned: its branch's roster lock (the lock order
    of ``assigning.py``: roster, then job, then clocks)."""
    job = uow.jobs.get(ticket_no)
    if job is not None:
        lock_roster(uow, job.branch)


def _visible_job(uow, principal: Principal, ticket_no: str, lock: bool = False) -> model.Job:
    """The job if the key may see it: its branch (HQ: all), or the engineer it is assigned
    to, also one lent from a neighbouring branch."""
    job = uow.jobs.get(ticket_no, lock=lock)
    mine = (principal.role == "engineer" and principal.engineer_id is not None
            and job is not None and principal.engineer_id == job.engineer_id)
    if job is None or not (principal.can_access(job.branch) or mine):
        raise NotFound(f"no job {ticket_no}")
    return job


def _pub(uow, job: model.Job, type_: str, data: dict) -> None:
    uow.publish(type_, {"ticket_no": job.ticket_no, **data}, ticket_no=job.ticket_no,
                branch=job.branch)


def act(uow, principal: Principal, ticket_no: str, action: str, body: dict,
        policies=None) -> dict:
    """One step of the job (``accept``, ``decline``, ``schedule``, ``depart``, ``check_in``,
    ``diagnose``, ``quote``, ``quote_decision``, ``complete``, ``sign_off``, ``report``,
    ``parts``). Engineers act only on their own jobs; dispatchers and managers of the job's
    branch (or HQ) on any of it; the customer's sign-off and quote decision may also be
    recorded by an agent."""
    principal.require_role(*ROLES_FOR.get(action, ACT_ROLES))
    schema = BODIES.get(action)
    data = _validate(schema, body) if schema else None
    now = utcnow()
    reassigned = None
    with uow:
        if action in REASSIGNING:
            _lock_branch_of(uow, ticket_no)
        job = _visible_job(uow, principal, ticket_no, lock=True)
        if principal.role == "engineer" and (not principal.engineer_id
                                             or principal.engineer_id != job.engineer_id):
            raise Forbidden(f"job {ticket_no} is not assigned to engineer {principal.engineer_id}")
        try:
            reassigned = _step(uow, policies, principal, job, action, data, now)
        except model.InvalidTransition as exc:
            raise Conflict(str(exc)) from None
        except ValueError as exc:
            raise InvalidInput([{"field": "(body)", "message": str(exc)}]) from None
        uow.jobs.save(job)
        history = uow.jobs.assignments(ticket_no)
        uow.commit()
    log.info("%s: %s by %s (%s)%s", ticket_no, action, principal.actor, principal.role,
             f"; reassigned to {reassigned}" if reassigned else "")
    return job_view(job, history)


def _step(uow, policies, principal, job: model.Job, action: str, data, now: datetime):
    eng = job.engineer_id
    clocks = policies is not None
    if action == "accept":
        job.accept(now)
        _pub(uow, job, "job_accepted", {"engineer_id": eng, "accepted_at": now})
        if clocks:
            sla.complete_stage_in(uow, policies, job.ticket_no, "dispatch", now)
    elif action == "decline":
        job.decline(eng)
        _pub(uow, job, "job_declined", {"engineer_id": eng, "reason": data.reason,
                                         "declined_at": now})
        return _reassign(uow, policies, job, now, f"{eng} 拒单：{data.reason}")
    elif action == "schedule":
        if data.window_to <= data.window_from:
            raise InvalidInput([{"field": "window_to", "message": "must be after window_from"}])
        job.schedule(data.window_from, data.window_to)
        _pub(uow, job, "appointment_set", {"engineer_id": eng, "window_from": data.window_from,
                                           "window_to": data.window_to, "agreed_at": now,
                                           "note": data.note})
        if clocks:   # agreeing a time with the customer is human contact
            sla.complete_stage_in(uow, policies, job.ticket_no, "response", now)
    elif action == "depart":
        job.depart(now)
        _pub(uow, job, "engineer_en_route", {"engineer_id": eng, "departed_at": now,
                                             "eta": data.eta})
    elif action == "check_in":
        first = job.check_in(now)
        _pub(uow, job, "engineer_checked_in", {"engineer_id": eng, "checked_in_at": now})
        if clocks and first:
            sla.complete_stage_in(uow, policies, job.ticket_no, "arrival", now)
    elif action == "diagnose":
        d = quotes.Diagnosis(data.cause, data.responsibility, data.warranty_void,
                            data.void_reason, data.findings)
        errors = d.validate()
        if errors:
            raise InvalidInput(errors)
        job.diagnose(d)
        _pub(uow, job, "job_diagnosed", {**job.diagnosis, "engineer_id": eng,
                                         "chargeable": job.chargeable, "diagnosed_at": now})
    elif action == "quote":
        if data.materials is not None:          # entered by hand: it wins
            q = quotes.Quote(data.materials, data.labour, data.travel, data.note)
        else:                                   # the parts service's prices
            try:
                q = job.quote_from_parts(data.labour, data.travel, data.note)
            except quotes.NoPartsPrices as exc:
                raise InvalidInput([{"field": "materials", "message": str(exc)}]) from None
        job.issue_quote(q, now)
        _pub(uow, job, "quote_issued", {"engineer_id": eng, "materials": money(q.materials),
                                        "labour": money(q.labour),
                                        "travel": money(q.travel), "total": q.total,
                                        "materials_source": q.materials_source,
                                        "parts_request_ids": list(q.parts_request_ids),
                                        "issued_at": now})
    elif action == "quote_decision":
        job.decide_quote(data.approved, now, principal.actor)
        _pub(uow, job, "quote_decided", {"approved": data.approved,
                                         "total": money(job.quote["total"]),
                                         "decided_at": now, "recorded_by": principal.actor})
    elif action == "complete":
        parts = [p.model_dump(mode="json") for p in data.parts_used]
        job.complete(now, data.summary, parts)
        _pub(uow, job, "job_completed", {"engineer_id": eng, "completed_at": now,
                                         "summary": data.summary, "parts_used": parts})
    elif action == "sign_off":
        if not data.accepted and not (data.reason or "").strip():
            raise InvalidInput([{"field": "reason", "message": "a rejected sign-off needs the reason"}])
        job.sign_off(data.accepted, now)
        if data.accepted:
            _pub(uow, job, "job_closed", {
                "engineer_id": eng, "priority": job.priority, "category": job.category,
                "completed_at": job.completed_at, "signed_off_at": now, "closed_at": now,
                "visits": max(job.visits, 1), "rework_count": job.rework_count,
                "first_time_fix": job.first_time_fix()})
            if clocks:
                sla.complete_stage_in(uow, policies, job.ticket_no, "resolution", now)
        else:
            _pub(uow, job, "job_rework", {"engineer_id": eng, "reason": data.reason,
                                          "rejected_at": now, "rework_count": job.rework_count})
    elif action == "report":
        job.report(now)
        uow.jobs.add_report(job.ticket_no, principal.engineer_id or eng, now, data.progress,
                            data.percent)
        _pub(uow, job, "progress_reported", {"engineer_id": eng, "reported_at": now,
                                             "progress": data.progress, "percent": data.percent})
    elif action == "parts":
        if not job.is_open or job.status in (model.COMPLETED, model.ESCALATED):
            raise model.InvalidTransition(
                f"cannot request parts for job {job.ticket_no}: it is {job.status!r}")
        _pub(uow, job, "parts_requested", {
            "requested_by": principal.actor,
            "in_warranty": not job.chargeable,
            "lines": [{"sku": p.sku, "quantity": p.quantity} for p in data.lines],
            "note": data.note})
    else:
        raise ValueError(f"unknown action {action!r}")
    return None


# -- the dispatcher's: assign, reassign ------------------------------------------------------
class AssignBody(_Body):
    engineer_id: str | None = Field(default=None, max_length=40)
    reason: str = Field(min_length=1, max_length=2000)


def _reassign(uow, policies, job: model.Job, now: datetime, why: str,
              engineer: roster.Engineer | None = None) -> str | None:
    """Give the job to ``engineer`` (manual) or to the best-ranked one who has not declined
    it; escalate when nobody can take it. The assignment history keeps every decision."""
    previous = job.engineer_id
    if engineer is not None:
        decision = roster.manual_assignment(engineer, uow.jobs.workload(engineer.branch)
                                           .get(engineer.engineer_id, 0), f"人工派工：{why}")
    else:
        exclude = set(job.declined_by) | ({previous} if previous else set())
        auto = decide(uow, policies, job.branch, job.priority, job.needs,
                       job.zone_hint or "", now, exclude=exclude)
        decision = roster.Assignment(auto.engineer, auto.escalated_to, f"{why}；{auto.reason}",
                                    auto.ranking, auto.offered)
    job.reassign(decision, now)
    uow.jobs.add_assignment(job.ticket_no, decision, now)
    publish_decision(uow, job, decision, previous=previous, manual=engineer is not None)
    return decision.engineer.engineer_id if decision.engineer else None


def assign(uow, principal: Principal, ticket_no: str, body: dict, policies=None) -> dict:
    """Manual assignment or reassignment with a reason: to ``engineer_id`` (of the job's branch
    or a neighbouring branch; HQ may pick anyone), or without one to the next best-ranked."""
    principal.require_role(*ASSIGN_ROLES)
    data = _validate(AssignBody, body)
    now = utcnow()
    with uow:
        _lock_branch_of(uow, ticket_no)
        job = _visible_job(uow, principal, ticket_no, lock=True)
        engineer = None
        if data.engineer_id:
            engineer = uow.engineers.get(data.engineer_id)
            if engineer is None or engineer.role != roster.ENGINEER or not engineer.active:
                raise InvalidInput([{"field": "engineer_id",
                                     "message": f"no active engineer {data.engineer_id}"}])
            allowed = {job.branch, *(policies.neighbours(job.branch) if policies else ())}
            if engineer.branch not in allowed and not principal.is_hq:
                raise InvalidInput([{"field": "engineer_id", "message":
                                     f"{data.engineer_id} is in {engineer.branch}, neither this "
                                     f"branch nor a neighbour (HQ may assign across)"}])
            if engineer.engineer_id == job.engineer_id:
                raise Conflict(f"{ticket_no} is already assigned to {engineer.engineer_id}")
        try:
            _reassign(uow, policies, job, now, data.reason, engineer)
        except model.InvalidTransition as exc:
            raise Conflict(str(exc)) from None
        uow.jobs.save(job)
        history = uow.jobs.assignments(ticket_no)
        uow.commit()
    log.info("%s: reassigned by %s to %s", ticket_no, principal.actor, job.engineer_id or
             job.escalated_to)
    return job_view(job, history)


# -- the timer's other duties -------------------------------------------------------------
def tick_jobs(uow, policies, settings: dict, now: datetime | None = None) -> int:
    """Acceptance timeouts (an assigned job not accepted in time is declined on the
    engineer's behalf and reassigned) and missing daily progress reports (a reminder, once per
    interval). Returns the number of jobs acted on."""
    now = now or utcnow()
    timeout = timedelta(minutes=float(settings.get("accept_timeout_minutes", 30)))
    interval = float(settings.get("report_interval_hours", 24)) * 3600
    n = 0
    with uow:
        late = sorted(uow.jobs.awaiting_acceptance(now - timeout), key=lambda j: j.branch)
        for job in late:      # branch by branch: roster, then job (the lock order)
            savepoint = uow.session.begin_nested()
            lock_roster(uow, job.branch)
            job = uow.jobs.get(job.ticket_no, lock=True)
            if job.status != model.ASSIGNED or job.assigned_at > now - timeout:
                savepoint.rollback()      # accepted or reassigned meanwhile
                continue
            eng = job.engineer_id
            job.decline(eng)
            _pub(uow, job, "job_declined", {"engineer_id": eng, "declined_at": now,
                                             "reason": f"{int(timeout.total_seconds() // 60)} 分钟内未接单",
                                             "timed_out": True})
            _reassign(uow, policies, job, now, f"{eng} 超时未接单")
            if not uow.jobs.save(job, expect=(model.ASSIGNED, eng)):
                savepoint.rollback()      # accepted (or reassigned) meanwhile: nothing to do
                continue
            savepoint.commit()
            n += 1
        for job in uow.jobs.reports_due(now - timedelta(seconds=interval)):
            savepoint = uow.session.begin_nested()
            _pub(uow, job, "progress_report_missing", {
                "engineer_id": job.engineer_id, "last_report_at": job.last_report_at,
                "reminded_at": now})
            if not uow.jobs.mark_reminded(job, now):
                savepoint.rollback()
                continue
            savepoint.commit()
            n += 1
        uow.jobs.purge_early(now - timedelta(days=EARLY_EVENTS_KEPT_DAYS))
        uow.commit()
    return n


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
        "in_warranty": job.in_warranty, "chargeable": job.chargeable,
        "appointment": ({"from": _iso(job.appointment_from), "to": _iso(job.appointment_to)}
                        if job.appointment_from else None),
        "en_route_at": _iso(job.en_route_at), "diagnosis": job.diagnosis, "quote": job.quote,
        "signed_off_at": _iso(job.signed_off_at), "closed_at": _iso(job.closed_at),
        "cancelled_at": _iso(job.cancelled_at), "visits": job.visits,
        "rework_count": job.rework_count, "declined_by": job.declined_by,
        "last_report_at": _iso(job.last_report_at),
        "parts_requests": job.parts_requests,
        "parts_chargeable_total": str(job.parts_chargeable_total),
        "parts_expected_at": _iso(job.parts_expected_at),
    }
    if history is not None:
        view["assignments"] = [{**a, "decided_at": _iso(a["decided_at"])} for a in history]
    return view


def get_job(uow, principal: Principal, ticket_no: str) -> dict:
    with uow:
        job = _visible_job(uow, principal, ticket_no)
        view = job_view(job, uow.jobs.assignments(ticket_no))
        view["sla"] = sla.clocks_view(uow, ticket_no)
        view["reports"] = [{**r, "reported_at": _iso(r["reported_at"])}
                           for r in uow.jobs.reports(ticket_no)]
        return view


def get_sla(uow, principal: Principal, ticket_no: str) -> dict:
    with uow:
        _visible_job(uow, principal, ticket_no)
        return sla.clocks_view(uow, ticket_no)


def _scope(principal: Principal, args) -> str | None:
    branch = args.get("branch") or None
    if branch is not None:
        principal.require_branch(branch)
    elif not principal.is_hq:
        branch = principal.branch
    return branch


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
    branch = _scope(principal, args)
    engineer_id = None
    if principal.role == "engineer":
        if not principal.engineer_id:
            raise Forbidden("this engineer key names no engineer")
        engineer_id = principal.engineer_id
        if not args.get("branch"):
            branch = None          # their own jobs, also those of a neighbouring branch
    with uow:
        found = uow.jobs.find(branch=branch, status=status, engineer_id=engineer_id, limit=limit)
    return {"jobs": [job_view(j) for j in found], "count": len(found)}


def board(uow, principal: Principal, args, now: datetime | None = None) -> dict:
    """The dispatchers' board: open jobs with their most urgent SLA clock, who is where
    (each engineer's open jobs and the site of the one on site), and what is at risk or
    overdue, most urgent first."""
    principal.require_role("dispatcher", "manager", "agent")
    branch = _scope(principal, args)
    now = now or utcnow()
    with uow:
        open_jobs = uow.jobs.find_open(branch)
        paused = uow.sla.paused_tickets()
        clocks = {}
        for c in uow.sla.open_clocks(branch):
            clocks.setdefault(c.ticket_no, []).append(c)
        people = uow.engineers.all(branch)
    rows, attention = [], []
    for job in open_jobs:
        mine = sorted(clocks.get(job.ticket_no, []),
                      key=lambda c: (c.due_at is None, c.due_at or now))
        nxt = mine[0] if mine else None
        row = {"ticket_no": job.ticket_no, "branch": job.branch, "status": job.status,
               "priority": job.priority, "category": job.category,
               "engineer_id": job.engineer_id, "escalated_to": job.escalated_to,
               "parts_expected_at": _iso(job.parts_expected_at),
               "next_deadline": (sla.clock_view(nxt, now, job.ticket_no in paused)
                                 if nxt else None)}
        rows.append(row)
        for c in mine:
            state = sla.ck.board_state(c, now, job.ticket_no in paused)
            if state in ("at_risk", "overdue"):
                attention.append({"ticket_no": job.ticket_no, "stage": c.stage,
                                  "priority": c.priority, "state": state,
                                  "due_at": _iso(c.due_at), "engineer_id": job.engineer_id})
    rows.sort(key=lambda r: (r["next_deadline"] is None,
                             (r["next_deadline"] or {}).get("due_at") or ""))
    where = []
    for e, _shift in people:
        if e.role != roster.ENGINEER:
            continue
        theirs = [j for j in open_jobs if j.engineer_id == e.engineer_id]
        on_site = next((j for j in theirs if j.status in model.ON_SITE_STATES), None)
        moving = next((j for j in theirs if j.status == model.EN_ROUTE), None)
        where.append({"engineer_id": e.engineer_id, "name": e.name, "branch": e.branch,
                      "active": e.active, "on_leave": e.on_leave(now), "on_shift": e.on_shift(now),
                      "open_jobs": sum(1 for j in theirs if j.status in model.BUSY_STATES),
                      "max_jobs": e.max_jobs,
                      "on_site_at": on_site.ticket_no if on_site else None,
                      "en_route_to": moving.ticket_no if moving else None})
    return {"branch": branch or "HQ", "at": now.isoformat(), "jobs": rows,
            "attention": sorted(attention, key=lambda a: (a["state"] != "overdue", a["due_at"] or "")),
            "engineers": where}
