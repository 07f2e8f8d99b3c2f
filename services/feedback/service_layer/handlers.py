"""Feedback's use cases. Each runs in one unit of work: state, outgoing events (and the
requests it opens through the phone-center contract) and the processed event id commit
together. ``now`` is a parameter wherever time matters, so the rules can be tested for
months without waiting."""
from __future__ import annotations

import csv
import dataclasses
import io
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aftersales.auth import Forbidden, Principal
from aftersales.contracts.envelope import Envelope, utcnow
from aftersales.contracts.events import (JobClosedV1, JobDiagnosedV1, PartsConsumedV1,
                                         SlaStageCompletedV1, TicketOpenedV1)
from aftersales.contracts.topology import PHONE_CENTER_EXCHANGE, REPAIR_REQUESTED
from aftersales.errors import Conflict, Gone, InvalidInput, NotFound, PermanentError
from aftersales.logs import mask_name, mask_phone

from ..domain import complaints as cp
from ..domain import model
from ..domain import stats
from ..domain import visits as rv

log = logging.getLogger(__name__)

TOKEN_ROLES = ("agent", "manager", "admin")   # staff who may see (and pass on) the survey link
STAFF_ROLES = ("agent", "dispatcher", "manager")   # agents, supervisors, managers
DEFAULT_TZ = "Asia/Shanghai"


class SurveyExpired(Gone):
    """410: the survey's link is past its expiry."""


@dataclass(frozen=True)
class Settings:
    branches: dict
    valid_days: float = model.DEFAULT_VALID_DAYS
    reminder_days: tuple[float, ...] = model.DEFAULT_REMINDER_DAYS
    visit_months: tuple[int, ...] = rv.DEFAULT_VISIT_MONTHS
    plan_lead_days: int = 30

    def tz(self, branch: str) -> str:
        return (self.branches.get(branch) or {}).get("timezone", DEFAULT_TZ)


@dataclass
class Outcome:
    """What a use case did that is counted in metrics once committed."""
    view: dict | None = None
    complaints: list[tuple[str, str]] = field(default_factory=list)   # (branch, severity)
    scores: list[tuple[str, int]] = field(default_factory=list)       # (branch, overall)


def who(principal: Principal) -> str:
    return principal.actor   # the key's subject (a staff or system id)


def branch_for(principal: Principal, branch: str | None, branches: dict) -> str:
    if not branch:
        if principal.is_hq:
            raise InvalidInput([{"field": "branch", "message": "is required for an HQ key"}])
        branch = principal.branch
    if branch not in branches:
        raise InvalidInput([{"field": "branch", "message":
                             f"unknown branch {branch!r}; known: {', '.join(sorted(branches))}"}])
    principal.require_branch(branch)
    return branch


# -- events from the other services ----------------------------------------------------------
def handle_event(uow, env: Envelope, settings: Settings) -> Outcome | None:
    """Every event on feedback's queue; idempotent by event id."""
    if env.branch not in settings.branches:
        raise PermanentError(f"{env.type} for {env.ticket_no} names no known branch ({env.branch!r})")
    handler = _EVENT_HANDLERS.get(env.type)
    if handler is None:
        raise PermanentError(f"feedback does not handle {env.type}")
    with uow:
        if uow.seen(env.event_id):
            return None
        uow.record_processed(env.event_id, env.type)
        outcome = handler(uow, env, settings, utcnow()) or Outcome()
        uow.commit()
    return outcome


def _on_ticket_opened(uow, env, settings, now):
    t = TicketOpenedV1.model_validate(env.data)
    if t.duplicate:
        return None
    uow.closed_jobs.upsert(t.ticket_no, env.branch, category=t.category, priority=t.priority,
                    customer=t.customer.model_dump(mode="json", exclude_none=True),
                    site=t.site.model_dump(mode="json", exclude_none=True),
                    asset=t.asset.model_dump(mode="json", exclude_none=True))
    if t.category != "complaint":
        return None
    if uow.complaints.list(None, None, ticket_no=t.ticket_no):
        return None       # re-sent (split) ticket: the complaint exists
    c = cp.register(t.ticket_no, env.branch, "intake", cp.SEVERITY_BY_PRIORITY[t.priority],
                    t.fault.description, now)
    uow.complaints.add(c, str(env.event_id))
    _publish_registered(uow, c)
    log.info("complaint %s registered from %s (customer %s, %s)", c.complaint_id, t.ticket_no,
             mask_name(t.customer.contact_name), mask_phone(t.customer.phone))
    return Outcome(complaints=[(c.branch, c.severity)])


def _on_job_closed(uow, env, settings, now):
    j = JobClosedV1.model_validate(env.data)
    uow.closed_jobs.upsert(j.ticket_no, env.branch, category=j.category, priority=j.priority,
                    engineer_id=j.engineer_id, completed_at=j.completed_at, closed_at=j.closed_at,
                    first_time_fix=j.first_time_fix, rework_count=j.rework_count)
    job = uow.closed_jobs.get(j.ticket_no)
    if not uow.surveys.for_ticket(j.ticket_no):
        survey = model.issue_survey(j.ticket_no, env.branch, j.engineer_id, now,
                                    settings.valid_days)
        uow.surveys.add(survey, survey.next_due_at(settings.reminder_days), str(env.event_id))
        uow.publish("survey_issued", {"ticket_no": survey.ticket_no, "survey_id": survey.survey_id,
                                      "expires_at": survey.expires_at.isoformat()},
                    ticket_no=survey.ticket_no, branch=survey.branch)
    added = uow.visits.add_new(rv.after_completion(job, settings.visit_months,
                                                   settings.tz(job.branch)))
    log.info("%s closed: survey issued, %d return visit(s) scheduled", j.ticket_no, len(added))
    return None


def _on_job_diagnosed(uow, env, settings, now):
    d = JobDiagnosedV1.model_validate(env.data)
    uow.facts.add_diagnosis(str(env.event_id), d.ticket_no, env.branch, d.engineer_id, d.cause,
                            d.responsibility, d.diagnosed_at)


def _on_sla_stage_completed(uow, env, settings, now):
    s = SlaStageCompletedV1.model_validate(env.data)
    uow.facts.add_sla(str(env.event_id), s.ticket_no, env.branch, s.stage, s.priority, s.met,
                      s.completed_at)


def _on_parts_consumed(uow, env, settings, now):
    p = PartsConsumedV1.model_validate(env.data)
    quantities = Counter()
    for line in p.lines:
        quantities[line.sku] += line.quantity
    uow.facts.add_parts(str(env.event_id), p.ticket_no, env.branch, dict(quantities),
                        env.occurred_at)


_EVENT_HANDLERS = {
    "ticket_opened": _on_ticket_opened,
    "job_closed": _on_job_closed,
    "job_diagnosed": _on_job_diagnosed,
    "sla_stage_completed": _on_sla_stage_completed,
    "parts_consumed": _on_parts_consumed,
}


# -- surveys ------------------------------------------------------------------------------------
def _find(uow, token: str, now: datetime) -> model.Survey:
    """The survey of a link; NotFound if there is none, SurveyExpired if it was not answered
    in time (an answered survey stays readable)."""
    survey = uow.surveys.by_token(token)
    if survey is None:
        raise NotFound("no such survey")
    if survey.status(now) == model.EXPIRED:
        raise SurveyExpired("this survey has expired")
    return survey


def questions() -> list[dict]:
    lo, hi = model.SCORE_RANGE
    out = [{"field": f, "label": label, "type": "score", "min": lo, "max": hi}
           for f, label in model.QUESTIONS]
    lo, hi = model.RECOMMEND_RANGE
    out.append({"field": "recommend", "label": model.RECOMMEND_LABEL, "type": "score",
                "min": lo, "max": hi})
    out.append({"field": "comment", "label": model.COMMENT_LABEL, "type": "text",
                "required": False, "max_length": model.COMMENT_MAX})
    return out


def customer_view(uow, token: str, now: datetime | None = None) -> dict:
    """What the customer's link shows (no auth: the token is the credential)."""
    now = now or utcnow()
    with uow:
        survey = _find(uow, token, now)
    return {"survey_id": survey.survey_id, "ticket_no": survey.ticket_no,
            "status": survey.status(now), "expires_at": survey.expires_at.isoformat(),
            "questions": questions()}


def _answer(uow, survey: model.Survey, doc: dict, now: datetime, channel: str,
            recorded_by: str | None) -> model.Survey:
    if survey.answered_at is not None:
        raise Conflict("this survey has been answered already")
    errors = model.answer_errors(doc)
    if errors:
        raise InvalidInput(errors)
    answer = model.parse_answer(doc)
    follow_up = model.follow_up_required(answer)
    if not uow.surveys.record_answer(survey.survey_id, answer, now, follow_up, channel,
                                     recorded_by):
        raise Conflict("this survey has been answered already")
    uow.publish("survey_answered", {
        "ticket_no": survey.ticket_no, "survey_id": survey.survey_id,
        "engineer_id": survey.engineer_id, "overall": answer.scores["overall"],
        "recommend": answer.recommend, "follow_up_required": follow_up,
        "answered_at": now.isoformat()}, ticket_no=survey.ticket_no, branch=survey.branch)
    if follow_up:
        fu = model.open_follow_up(survey, answer, now)
        uow.follow_ups.add(fu)
        uow.publish("follow_up_opened", {
            "ticket_no": fu.ticket_no, "follow_up_id": fu.follow_up_id, "survey_id": fu.survey_id,
            "engineer_id": fu.engineer_id, "reasons": fu.reasons,
            "due_at": fu.due_at.isoformat()}, ticket_no=fu.ticket_no, branch=fu.branch)
        log.info("survey %s for %s: low score (%s), follow-up %s for the supervisor",
                 survey.survey_id, survey.ticket_no, ", ".join(fu.reasons), fu.follow_up_id)
    return dataclasses.replace(survey, answered_at=now, answer=answer,
                               follow_up_required=follow_up, channel=channel)


def answer_survey(uow, token: str, doc: dict, now: datetime | None = None) -> model.Survey:
    """The customer's answer: 404 unknown, 409 answered already, 410 expired, 422 invalid."""
    now = now or utcnow()
    with uow:
        survey = _answer(uow, _find(uow, token, now), doc, now, "link", None)
        uow.commit()
    return survey


def record_phone_answer(uow, principal: Principal, survey_id: str, doc: dict,
                        now: datetime | None = None) -> model.Survey:
    """An agent records the customer's answers given on the phone (same rules as the link)."""
    principal.require_role(*TOKEN_ROLES)
    now = now or utcnow()
    with uow:
        survey = uow.surveys.get(survey_id)
        if survey is None or not principal.can_access(survey.branch):
            raise NotFound("no such survey")
        if survey.status(now) == model.EXPIRED:
            raise SurveyExpired("this survey has expired")
        survey = _answer(uow, survey, doc, now, "phone", who(principal))
        uow.commit()
    return survey


def staff_view(uow, principal: Principal, ticket_no: str | None) -> dict:
    """The surveys of a ticket, for staff of its branch (or HQ); agents and managers also get
    the link token and the customer's contact (to call)."""
    if not ticket_no:
        raise InvalidInput([{"field": "ticket_no", "message": "is required"}])
    now = utcnow()
    with uow:
        found = [s for s in uow.surveys.for_ticket(ticket_no) if principal.can_access(s.branch)]
        job = uow.closed_jobs.get(ticket_no) if found else None
    show_token = principal.role in TOKEN_ROLES
    docs = [_staff_doc(s, now, show_token) for s in found]
    if show_token and job is not None and job.customer:
        for d in docs:
            d["contact"] = {k: job.customer.get(k) for k in ("contact_name", "phone", "email")}
    return {"ticket_no": ticket_no, "surveys": docs}


def _staff_doc(s: model.Survey, now: datetime, show_token: bool) -> dict:
    doc = {"survey_id": s.survey_id, "ticket_no": s.ticket_no, "branch": s.branch,
           "engineer_id": s.engineer_id, "status": s.status(now),
           "issued_at": s.issued_at.isoformat(), "expires_at": s.expires_at.isoformat(),
           "answered_at": s.answered_at.isoformat() if s.answered_at else None,
           "reminders_sent": s.reminders_sent, "channel": s.channel,
           "follow_up_required": s.follow_up_required, "answer": None}
    if s.answer is not None:
        doc["answer"] = {**s.answer.scores, "recommend": s.answer.recommend,
                         "comment": s.answer.comment}
    if show_token:
        doc["token"] = s.token
    return doc


# -- follow-ups ----------------------------------------------------------------------------------
def _follow_up_doc(f: model.FollowUp, now: datetime | None = None) -> dict:
    now = now or utcnow()
    return {"follow_up_id": f.follow_up_id, "survey_id": f.survey_id, "ticket_no": f.ticket_no,
            "branch": f.branch, "engineer_id": f.engineer_id, "reasons": f.reasons,
            "status": f.status, "overdue": f.status == "open" and now >= f.due_at,
            "opened_at": f.opened_at.isoformat(),
            "due_at": f.due_at.isoformat(),
            "closed_at": f.closed_at.isoformat() if f.closed_at else None,
            "closed_by": f.closed_by, "note": f.note}


def list_follow_ups(uow, principal: Principal, branches: dict, branch: str | None,
                    status: str | None) -> dict:
    principal.require_role(*STAFF_ROLES)
    b = branch_for(principal, branch, branches) if (branch or not principal.is_hq) else None
    with uow:
        found = uow.follow_ups.list(b, status)
    return {"branch": b, "follow_ups": [_follow_up_doc(f) for f in found]}


def close_follow_up(uow, principal: Principal, follow_up_id: str, note: str,
                    now: datetime | None = None) -> dict:
    principal.require_role(*STAFF_ROLES)
    now = now or utcnow()
    with uow:
        f = uow.follow_ups.get(follow_up_id)
        if f is None or not principal.can_access(f.branch):
            raise NotFound("no such follow-up")
        try:
            f.close(who(principal), note, now)
        except ValueError as exc:
            raise Conflict(str(exc)) from None
        uow.follow_ups.save(f)
        uow.commit()
    return _follow_up_doc(f)


# -- the scheduler ------------------------------------------------------------------------------
def scan(uow_factory, settings: Settings, now: datetime | None = None) -> dict:
    """One pass of the scheduler (the service's timer): survey reminders and expiry, overdue
    complaints' escalation, seasonal and annual visit plans. Each item in its own unit of
    work; idempotent (a second pass at the same time does nothing)."""
    now = now or utcnow()
    done = Counter()
    with uow_factory() as uow:
        due = uow.surveys.due(now)
    for s in due:
        action = s.due_action(now, settings.reminder_days)
        if action is None:
            continue
        with uow_factory() as uow:
            kind, n = action
            if kind == model.EXPIRE:
                if uow.surveys.mark_expired(s.survey_id, now):
                    uow.publish("survey_expired", {"ticket_no": s.ticket_no,
                                                   "survey_id": s.survey_id,
                                                   "expired_at": now.isoformat()},
                                ticket_no=s.ticket_no, branch=s.branch)
                    done["surveys_expired"] += 1
            else:
                after = dataclasses.replace(s, reminders_sent=n)
                if uow.surveys.mark_reminded(s.survey_id, n, after.next_due_at(settings.reminder_days)):
                    uow.publish("survey_reminded", {"ticket_no": s.ticket_no,
                                                    "survey_id": s.survey_id, "reminder_no": n,
                                                    "expires_at": s.expires_at.isoformat()},
                                ticket_no=s.ticket_no, branch=s.branch)
                    done["surveys_reminded"] += 1
            uow.commit()
    with uow_factory() as uow:
        overdue = uow.complaints.overdue(now, cp.MAX_LEVEL)
    for complaint_id in overdue:
        with uow_factory() as uow:
            c = uow.complaints.get(complaint_id)
            if c is None or not c.due_escalation(now):
                continue
            level, to = c.escalate(now)
            uow.complaints.save(c)
            uow.publish("complaint_escalated", {
                "ticket_no": c.ticket_no, "complaint_id": c.complaint_id, "severity": c.severity,
                "level": level, "escalated_to": to, "escalated_at": now.isoformat(),
                "next_deadline": c.deadline.isoformat()}, ticket_no=c.ticket_no, branch=c.branch)
            uow.commit()
            log.warning("complaint %s (%s) overdue: escalated to %s", c.complaint_id, c.ticket_no, to)
            done["complaints_escalated"] += 1
    with uow_factory() as uow:
        plans = [p for p in uow.plans.all() if p.active]
    for plan in plans:
        year = now.astimezone(ZoneInfo(DEFAULT_TZ)).year
        if now < plan.date_in(year) - timedelta(days=settings.plan_lead_days):
            continue
        with uow_factory() as uow:
            if uow.plans.ran(plan.plan_id, year):
                continue
            n = _generate(uow, plan, year, now)
            uow.commit()
        if n:
            done["plan_visits"] += n
    return dict(done)


# -- complaints ---------------------------------------------------------------------------------
def complaint_doc(c: cp.Complaint, now: datetime | None = None) -> dict:
    now = now or utcnow()
    return {"complaint_id": c.complaint_id, "ticket_no": c.ticket_no, "branch": c.branch,
            "source": c.source, "severity": c.severity, "description": c.description,
            "owner": c.owner, "engineer_id": c.engineer_id, "status": c.status,
            "registered_at": c.registered_at.isoformat(), "deadline": c.deadline.isoformat(),
            "overdue": c.overdue(now), "escalation_level": c.escalation_level,
            "escalated_to": cp.ESCALATION.get(c.escalation_level), "notes": c.notes,
            "resolution": c.resolution,
            "resolved_at": c.resolved_at.isoformat() if c.resolved_at else None,
            "resolved_by": c.resolved_by,
            "confirmed_at": c.confirmed_at.isoformat() if c.confirmed_at else None,
            "satisfied": c.satisfied}


def _publish_registered(uow, c: cp.Complaint) -> None:
    uow.publish("complaint_registered", {
        "ticket_no": c.ticket_no, "complaint_id": c.complaint_id, "source": c.source,
        "severity": c.severity, "owner": c.owner, "deadline": c.deadline.isoformat(),
        "registered_at": c.registered_at.isoformat()}, ticket_no=c.ticket_no, branch=c.branch)


def register_complaint(uow, principal: Principal, branches: dict, *, ticket_no: str,
                       branch: str | None, severity: str, description: str,
                       owner: str | None = None, deadline: datetime | None = None,
                       now: datetime | None = None) -> Outcome:
    """An agent registers a complaint about a ticket (by phone, e-mail, in person)."""
    principal.require_role(*STAFF_ROLES)
    b = branch_for(principal, branch, branches)
    now = now or utcnow()
    with uow:
        job = uow.closed_jobs.get(ticket_no)
        if job is not None and job.branch != b:
            raise InvalidInput([{"field": "ticket_no",
                                 "message": f"belongs to branch {job.branch}, not {b}"}])
        c = cp.register(ticket_no, b, "agent", severity, description, now, owner=owner,
                        deadline=deadline, engineer_id=job.engineer_id if job else None)
        c.notes.append({"at": now.isoformat(), "by": who(principal), "text": "registered"})
        uow.complaints.add(c)
        _publish_registered(uow, c)
        uow.commit()
    return Outcome(view=complaint_doc(c, now), complaints=[(c.branch, c.severity)])


def list_complaints(uow, principal: Principal, branches: dict, branch: str | None,
                    status: str | None, ticket_no: str | None) -> dict:
    principal.require_role(*STAFF_ROLES)
    b = branch_for(principal, branch, branches) if (branch or not principal.is_hq) else None
    now = utcnow()
    with uow:
        found = uow.complaints.list(b, status, ticket_no)
    return {"branch": b, "complaints": [complaint_doc(c, now) for c in found]}


def get_complaint(uow, principal: Principal, complaint_id: str) -> dict:
    principal.require_role(*STAFF_ROLES)
    with uow:
        c = uow.complaints.get(complaint_id, lock=False)
    if c is None or not principal.can_access(c.branch):
        raise NotFound("no such complaint")
    return complaint_doc(c)


def act_on_complaint(uow, principal: Principal, complaint_id: str, action: str, *,
                     text: str | None = None, owner: str | None = None,
                     satisfied: bool | None = None, now: datetime | None = None) -> dict:
    """note | assign | resolve | confirm (the customer's answer, recorded by an agent)."""
    principal.require_role(*STAFF_ROLES)
    now = now or utcnow()
    with uow:
        c = uow.complaints.get(complaint_id)
        if c is None or not principal.can_access(c.branch):
            raise NotFound("no such complaint")
        by = who(principal)
        try:
            if action == "note":
                c.add_note(by, text, now)
            elif action == "assign":
                c.assign(owner, by, now)
            elif action == "resolve":
                c.resolve(by, text, now)
                uow.publish("complaint_resolved", {
                    "ticket_no": c.ticket_no, "complaint_id": c.complaint_id,
                    "resolution": c.resolution, "resolved_by": by,
                    "resolved_at": now.isoformat()}, ticket_no=c.ticket_no, branch=c.branch)
            elif action == "confirm":
                c.confirm(bool(satisfied), now, text)
                uow.publish("complaint_confirmed", {
                    "ticket_no": c.ticket_no, "complaint_id": c.complaint_id,
                    "satisfied": bool(satisfied), "confirmed_at": now.isoformat()},
                    ticket_no=c.ticket_no, branch=c.branch)
            else:
                raise ValueError(f"unknown action {action}")
        except cp.ComplaintError as exc:
            raise Conflict(str(exc)) from None
        uow.complaints.save(c)
        uow.commit()
    return complaint_doc(c, now)


# -- return visits ------------------------------------------------------------------------------
def visit_doc(v: rv.Visit, now: datetime | None = None) -> dict:
    now = now or utcnow()
    return {"visit_id": v.visit_id, "ticket_no": v.ticket_no, "branch": v.branch,
            "kind": v.kind, "plan_id": v.plan_id, "label": v.label,
            "due_at": v.due_at.isoformat(), "due": v.is_due(now), "status": v.status,
            "outcome": v.outcome, "notes": v.notes,
            "completed_at": v.completed_at.isoformat() if v.completed_at else None,
            "completed_by": v.completed_by, "request_id": v.request_id}


def list_visits(uow, principal: Principal, branches: dict, branch: str | None,
                status: str | None, due_before: datetime | None, ticket_no: str | None) -> dict:
    """The due list of a branch: ``status=scheduled`` and ``due_before`` (default: now)."""
    principal.require_role(*STAFF_ROLES)
    b = branch_for(principal, branch, branches)
    now = utcnow()
    with uow:
        found = uow.visits.list(b, status, due_before, ticket_no)
        contacts = {t: uow.closed_jobs.get(t) for t in {v.ticket_no for v in found}}
    out = []
    for v in found:
        d = visit_doc(v, now)
        job = contacts.get(v.ticket_no)
        if job is not None:
            d["customer"] = {k: (job.customer or {}).get(k) for k in ("name", "contact_name", "phone")}
            d["site"] = job.site
        out.append(d)
    return {"branch": b, "visits": out}


def record_visit(uow, principal: Principal, visit_id: str, outcome: str, notes: str | None,
                 problem: str | None, category: str | None = None, priority: str | None = None,
                 now: datetime | None = None) -> dict:
    """The outcome of a return visit. ``problem_found`` opens a new request through the
    intake contract (``repair_requested`` on ``phone_center.events``, source
    ``return_visit``, request id unique per visit) in the same transaction (outbox)."""
    principal.require_role(*STAFF_ROLES)
    now = now or utcnow()
    if outcome == "problem_found" and not (problem or "").strip():
        raise InvalidInput([{"field": "problem", "message": "is required when a problem was found"}])
    with uow:
        v = uow.visits.get(visit_id)
        if v is None or not principal.can_access(v.branch):
            raise NotFound("no such return visit")
        try:
            v.record(outcome, who(principal), now, notes)
        except rv.VisitError as exc:
            raise Conflict(str(exc)) from None
        if outcome == "problem_found":
            job = uow.closed_jobs.get(v.ticket_no)
            if job is None or not job.customer or not job.site:
                raise Conflict(f"feedback has no customer and site for {v.ticket_no}: "
                               "file the request with intake directly")
            body = rv.repair_request(v, job, problem.strip(), now, category, priority)
            uow.publish_message(PHONE_CENTER_EXCHANGE, REPAIR_REQUESTED, body,
                                message_id=_message_id(v.request_id))
            log.info("return visit %s found a problem: request %s filed for %s (customer %s)",
                     v.visit_id, v.request_id, v.ticket_no,
                     mask_name((job.customer or {}).get("contact_name")))
        if not uow.visits.save(v):
            raise Conflict("this visit's outcome was recorded already")
        uow.publish("return_visit_completed", {
            "ticket_no": v.ticket_no, "visit_id": v.visit_id, "kind": v.kind,
            "plan_id": v.plan_id, "outcome": v.outcome, "completed_at": now.isoformat(),
            "by": v.completed_by, "request_id": v.request_id},
            ticket_no=v.ticket_no, branch=v.branch)
        uow.commit()
    return visit_doc(v, now)


def _message_id(request_id: str) -> str:
    import uuid
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"aftersales:return_visit:{request_id}"))


# -- visit plans --------------------------------------------------------------------------------
def plan_doc(p: rv.Plan) -> dict:
    return {"plan_id": p.plan_id, "name": p.name, "kind": p.kind, "month": p.month, "day": p.day,
            "categories": list(p.categories), "keywords": list(p.keywords),
            "branches": list(p.branches), "active": p.active}


def list_plans(uow, principal: Principal) -> dict:
    principal.require_role(*STAFF_ROLES)
    with uow:
        return {"plans": [plan_doc(p) for p in uow.plans.all()]}


def _require_hq_manager(principal: Principal) -> None:
    """Visit plans span every branch: managed (and run) by HQ's managers only."""
    principal.require_role("manager")
    if not principal.is_hq:
        raise Forbidden("visit plans are managed by HQ: a branch key may not change or run them")


def put_plan(uow, principal: Principal, plan_id: str, doc: dict, now: datetime | None = None) -> dict:
    _require_hq_manager(principal)
    errors = rv.plan_errors(doc)
    if errors:
        raise InvalidInput(errors)
    with uow:
        uow.plans.put(plan_id, doc, now or utcnow())
        uow.commit()
        return plan_doc(uow.plans.get(plan_id))


def _generate(uow, plan: rv.Plan, year: int, now: datetime) -> int:
    start = datetime(year - 5, 1, 1, tzinfo=ZoneInfo(DEFAULT_TZ))
    jobs = uow.closed_jobs.closed_between(None, start, plan.date_in(year))
    added = uow.visits.add_new(rv.plan_visits(plan, year, jobs))
    uow.plans.record_run(plan.plan_id, year, len(added), now)
    log.info("plan %s %d: %d visit(s) scheduled", plan.plan_id, year, len(added))
    return len(added)


def generate_plan(uow, principal: Principal, plan_id: str, year: int,
                  now: datetime | None = None) -> dict:
    """Schedule a plan's visits for a year now (again: only new projects are added)."""
    _require_hq_manager(principal)
    with uow:
        plan = uow.plans.get(plan_id)
        if plan is None:
            raise NotFound("no such plan")
        n = _generate(uow, plan, year, now or utcnow())
        uow.commit()
    return {"plan_id": plan_id, "year": year, "scheduled": n}


# -- statistics ---------------------------------------------------------------------------------
def monthly_report(uow, principal: Principal, settings: Settings, branch: str | None,
                   month: str | None, now: datetime | None = None) -> dict:
    principal.require_role("manager", "dispatcher", "agent")
    b = branch_for(principal, branch, settings.branches)
    tz = settings.tz(b)
    month = month or stats.month_of(now or utcnow(), tz)
    try:
        start, end = stats.month_window(month, tz)
    except ValueError as exc:
        raise InvalidInput([{"field": "month", "message": str(exc)}]) from None
    with uow:
        report = stats.monthly_report(
            b, month, tz=tz, surveys=uow.surveys.in_window(b, start, end),
            jobs=uow.closed_jobs.closed_between(b, start, end), sla=uow.facts.sla(b, start, end),
            causes=uow.facts.causes(b, start, end), parts=uow.facts.parts(b, start, end),
            complaints=uow.complaints.touching(b, start, end),
            follow_ups=uow.follow_ups.opened_between(b, start, end),
            visits=uow.visits.touching(b, start, end))
    return report


def report_csv(report: dict) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["branch", "month", "section", "key", "metric", "value"])
    for row in stats.report_rows(report):
        w.writerow(["" if v is None else v for v in row])
    return buf.getvalue()
