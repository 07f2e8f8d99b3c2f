"""Feedback's read side: each view opens its own unit of work, commits nothing and returns a
JSON-ready dict; the ``*_doc`` functions are the documents the commands answer with too.
(The monthly report is in service_layer/reports.py.)"""
from __future__ import annotations

from datetime import datetime

from aftersales.auth import Principal
from aftersales.contracts.envelope import utcnow
from aftersales.errors import Gone, InvalidInput, NotFound
from aftersales.localtime import iso
from aftersales.scoping import branch_for, scope

from ..domain import complaints as cp
from ..domain import model
from ..domain import visits as rv
from .common import STAFF_ROLES, TOKEN_ROLES, visible


class SurveyExpired(Gone):
    """410: the survey's link is past its expiry."""


def by_token(uow, token: str, now: datetime) -> model.Survey:
    """The survey of a link; NotFound if there is none, SurveyExpired if it was not answered
    in time (an answered survey stays readable)."""
    survey = uow.surveys.by_token(token)
    if survey is None:
        raise NotFound("no such survey")
    if survey.status(now) == model.EXPIRED:
        raise SurveyExpired("this survey has expired")
    return survey


# -- surveys ------------------------------------------------------------------------------------
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
        survey = by_token(uow, token, now)
    return {"survey_id": survey.survey_id, "ticket_no": survey.ticket_no,
            "status": survey.status(now), "expires_at": survey.expires_at.isoformat(),
            "questions": questions()}


def staff_view(uow, principal: Principal, ticket_no: str | None) -> dict:
    """The surveys of a ticket, for staff of its branch (or HQ); agents and managers also get
    the link token and the customer's contact (to call)."""
    if not ticket_no:
        raise InvalidInput([{"field": "ticket_no", "message": "is required"}])
    now = utcnow()
    with uow:
        uow.snapshot()
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
           "issued_at": iso(s.issued_at), "expires_at": iso(s.expires_at),
           "answered_at": iso(s.answered_at),
           "reminders_sent": s.reminders_sent, "channel": s.channel,
           "follow_up_required": s.follow_up_required, "answer": None}
    if s.answer is not None:
        doc["answer"] = {**s.answer.scores, "recommend": s.answer.recommend,
                         "comment": s.answer.comment}
    if show_token:
        doc["token"] = s.token
    return doc


# -- follow-ups ----------------------------------------------------------------------------------
def follow_up_doc(f: model.FollowUp, now: datetime | None = None) -> dict:
    now = now or utcnow()
    return {"follow_up_id": f.follow_up_id, "survey_id": f.survey_id, "ticket_no": f.ticket_no,
            "branch": f.branch, "engineer_id": f.engineer_id, "reasons": f.reasons,
            "status": f.status, "overdue": f.status == "open" and now >= f.due_at,
            "opened_at": iso(f.opened_at), "due_at": iso(f.due_at),
            "closed_at": iso(f.closed_at), "closed_by": f.closed_by, "note": f.note}


def list_follow_ups(uow, principal: Principal, branches: dict, branch: str | None,
                    status: str | None) -> dict:
    principal.require_role(*STAFF_ROLES)
    b = scope(principal, branch, branches)
    with uow:
        found = uow.follow_ups.list(b, status)
    return {"branch": b, "follow_ups": [follow_up_doc(f) for f in found]}


# -- complaints ---------------------------------------------------------------------------------
def complaint_doc(c: cp.Complaint, now: datetime | None = None) -> dict:
    now = now or utcnow()
    return {"complaint_id": c.complaint_id, "ticket_no": c.ticket_no, "branch": c.branch,
            "source": c.source, "severity": c.severity, "description": c.description,
            "owner": c.owner, "engineer_id": c.engineer_id, "status": c.status,
            "registered_at": iso(c.registered_at), "deadline": iso(c.deadline),
            "overdue": c.overdue(now), "escalation_level": c.escalation_level,
            "escalated_to": cp.ESCALATION.get(c.escalation_level), "notes": c.notes,
            "resolution": c.resolution, "resolved_at": iso(c.resolved_at),
            "resolved_by": c.resolved_by, "confirmed_at": iso(c.confirmed_at),
            "satisfied": c.satisfied}


def list_complaints(uow, principal: Principal, branches: dict, branch: str | None,
                    status: str | None, ticket_no: str | None) -> dict:
    principal.require_role(*STAFF_ROLES)
    b = scope(principal, branch, branches)
    now = utcnow()
    with uow:
        found = uow.complaints.list(b, status, ticket_no)
    return {"branch": b, "complaints": [complaint_doc(c, now) for c in found]}


def get_complaint(uow, principal: Principal, complaint_id: str) -> dict:
    principal.require_role(*STAFF_ROLES)
    with uow:
        c = uow.complaints.get(complaint_id, lock=False)
    return complaint_doc(visible(principal, c, "complaint"))


# -- return visits and plans -------------------------------------------------------------------
def visit_doc(v: rv.Visit, now: datetime | None = None) -> dict:
    now = now or utcnow()
    return {"visit_id": v.visit_id, "ticket_no": v.ticket_no, "branch": v.branch,
            "kind": v.kind, "plan_id": v.plan_id, "label": v.label,
            "due_at": iso(v.due_at), "due": v.is_due(now), "status": v.status,
            "outcome": v.outcome, "notes": v.notes, "completed_at": iso(v.completed_at),
            "completed_by": v.completed_by, "request_id": v.request_id}


def list_visits(uow, principal: Principal, branches: dict, branch: str | None,
                status: str | None, due_before: datetime | None, ticket_no: str | None) -> dict:
    """The due list of a branch: ``status=scheduled`` and ``due_before`` (default: now)."""
    principal.require_role(*STAFF_ROLES)
    b = branch_for(principal, branch, branches)
    now = utcnow()
    with uow:
        uow.snapshot()
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


def plan_doc(p: rv.Plan) -> dict:
    return {"plan_id": p.plan_id, "name": p.name, "kind": p.kind, "month": p.month, "day": p.day,
            "categories": list(p.categories), "keywords": list(p.keywords),
            "branches": list(p.branches), "active": p.active}


def list_plans(uow, principal: Principal) -> dict:
    principal.require_role(*STAFF_ROLES)
    with uow:
        return {"plans": [plan_doc(p) for p in uow.plans.all()]}
