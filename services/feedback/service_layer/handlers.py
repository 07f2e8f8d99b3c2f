"""Feedback's use cases. Each runs in one unit of work: state, outgoing events and the
processed event id commit together."""
from __future__ import annotations

import dataclasses
import logging
from datetime import datetime

from aftersales.auth import Principal
from aftersales.contracts.envelope import Envelope, utcnow
from aftersales.contracts.events import JobCompletedV1
from aftersales.errors import Conflict, Gone, InvalidInput, NotFound, PermanentError

from ..domain import model

log = logging.getLogger(__name__)

TOKEN_ROLES = ("agent", "manager", "admin")   # staff who may see (and pass on) the survey link


class SurveyExpired(Gone):
    """410: the survey's link is past its expiry."""


def issue_for_job(uow, env: Envelope, branches: dict,
                  valid_days: float = model.DEFAULT_VALID_DAYS) -> model.Survey | None:
    """``job_completed``: issue the customer a survey and publish ``survey_issued`` (without
    the token: the link is a secret). Idempotent by event id; at most one survey per ticket."""
    job = JobCompletedV1.model_validate(env.data)
    if env.branch not in branches:
        raise PermanentError(f"job_completed for {job.ticket_no} names no known branch ({env.branch!r})")
    with uow:
        if uow.seen(env.event_id):
            return None
        uow.record_processed(env.event_id, env.type)
        if uow.surveys.for_ticket(job.ticket_no):
            log.info("%s already has a survey; none issued for event %s", job.ticket_no, env.event_id)
            uow.commit()
            return None
        survey = model.issue_survey(job.ticket_no, env.branch, job.engineer_id, utcnow(), valid_days)
        uow.surveys.add(survey, str(env.event_id))
        uow.publish("survey_issued", {"ticket_no": survey.ticket_no, "survey_id": survey.survey_id,
                                      "expires_at": survey.expires_at.isoformat()},
                    ticket_no=survey.ticket_no, branch=survey.branch)
        uow.commit()
    return survey


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


def customer_view(uow, token: str) -> dict:
    """What the customer's link shows (no auth: the token is the credential)."""
    now = utcnow()
    with uow:
        survey = _find(uow, token, now)
    return {"survey_id": survey.survey_id, "ticket_no": survey.ticket_no,
            "status": survey.status(now), "expires_at": survey.expires_at.isoformat(),
            "questions": questions()}


def answer_survey(uow, token: str, doc: dict) -> model.Survey:
    """The customer's answer: 404 unknown, 409 answered already, 410 expired, 422 invalid."""
    now = utcnow()
    with uow:
        survey = _find(uow, token, now)
        if survey.answered_at is not None:
            raise Conflict("this survey has been answered already")
        errors = model.answer_errors(doc)
        if errors:
            raise InvalidInput(errors)
        answer = model.parse_answer(doc)
        follow_up = model.follow_up_required(answer)
        if not uow.surveys.record_answer(survey.survey_id, answer, now, follow_up):
            raise Conflict("this survey has been answered already")
        uow.publish("survey_answered", {
            "ticket_no": survey.ticket_no, "survey_id": survey.survey_id,
            "engineer_id": survey.engineer_id, "overall": answer.scores["overall"],
            "recommend": answer.recommend, "follow_up_required": follow_up,
            "answered_at": now.isoformat()}, ticket_no=survey.ticket_no, branch=survey.branch)
        uow.commit()
    if follow_up:
        log.info("survey %s for %s needs a follow-up call", survey.survey_id, survey.ticket_no)
    return dataclasses.replace(survey, answered_at=now, answer=answer, follow_up_required=follow_up)


def staff_view(uow, principal: Principal, ticket_no: str | None) -> dict:
    """The surveys of a ticket, for staff of its branch (or HQ)."""
    if not ticket_no:
        raise InvalidInput([{"field": "ticket_no", "message": "is required"}])
    now = utcnow()
    with uow:
        found = [s for s in uow.surveys.for_ticket(ticket_no) if principal.can_access(s.branch)]
    show_token = principal.role in TOKEN_ROLES
    return {"ticket_no": ticket_no, "surveys": [_staff_doc(s, now, show_token) for s in found]}


def _staff_doc(s: model.Survey, now: datetime, show_token: bool) -> dict:
    doc = {"survey_id": s.survey_id, "ticket_no": s.ticket_no, "branch": s.branch,
           "engineer_id": s.engineer_id, "status": s.status(now),
           "issued_at": s.issued_at.isoformat(), "expires_at": s.expires_at.isoformat(),
           "answered_at": s.answered_at.isoformat() if s.answered_at else None,
           "follow_up_required": s.follow_up_required, "answer": None}
    if s.answer is not None:
        doc["answer"] = {**s.answer.scores, "recommend": s.answer.recommend,
                         "comment": s.answer.comment}
    if show_token:
        doc["token"] = s.token
    return doc
