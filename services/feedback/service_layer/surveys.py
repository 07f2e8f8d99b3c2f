"""Surveys answered over the link or on the phone, and the supervisor's follow-up a low score
opens."""
from __future__ import annotations

import dataclasses
import logging
from datetime import datetime

from aftersales.contracts.envelope import utcnow
from aftersales.errors import Conflict, InvalidInput

from ..domain import model
from . import commands, views
from .common import STAFF_ROLES, TOKEN_ROLES, visible
from .views import SurveyExpired, by_token

log = logging.getLogger(__name__)


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


def answer_survey(uow, cmd: commands.AnswerSurvey) -> model.Survey:
    """The customer's answer: 404 unknown, 409 answered already, 410 expired, 422 invalid."""
    now = cmd.now or utcnow()
    return _answer(uow, by_token(uow, cmd.token, now), cmd.answer, now, "link", None)


def record_phone_answer(uow, cmd: commands.RecordPhoneAnswer) -> model.Survey:
    """An agent records the customer's answers given on the phone (same rules as the link)."""
    principal = cmd.principal
    principal.require_role(*TOKEN_ROLES)
    now = cmd.now or utcnow()
    survey = visible(principal, uow.surveys.get(cmd.survey_id), "survey")
    if survey.status(now) == model.EXPIRED:
        raise SurveyExpired("this survey has expired")
    return _answer(uow, survey, cmd.answer, now, "phone", principal.actor)


def close_follow_up(uow, cmd: commands.CloseFollowUp) -> dict:
    """The supervisor closes the loop (model.FollowUpError, a 409, when it is closed already)."""
    principal = cmd.principal
    principal.require_role(*STAFF_ROLES)
    now = cmd.now or utcnow()
    f = visible(principal, uow.follow_ups.get(cmd.follow_up_id), "follow-up")
    f.close(principal.actor, cmd.note, now)
    uow.follow_ups.save(f)
    return views.follow_up_doc(f)
