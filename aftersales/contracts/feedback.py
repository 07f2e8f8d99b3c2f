"""The events feedback publishes (exchange ``feedback.events``): surveys and their follow-ups,
complaints, and return visits. (A return visit that finds a problem also files a new request
through the phone-center contract, :mod:`.phone_center`.)"""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from .common import ComplaintSeverity, Schema

SOURCE = "feedback"

VisitOutcome = Literal["ok", "problem_found", "unreachable"]


# --------------------------------------------------------------------------------------
# Surveys: every event names the ticket and the survey
# --------------------------------------------------------------------------------------
class _SurveyEvent(Schema):
    ticket_no: str
    survey_id: str


class SurveyIssuedV1(_SurveyEvent):
    expires_at: datetime


class SurveyAnsweredV1(_SurveyEvent):
    engineer_id: str | None = None
    overall: int = Field(ge=1, le=5)
    recommend: int = Field(ge=0, le=10)
    follow_up_required: bool
    answered_at: datetime


class SurveyRemindedV1(_SurveyEvent):
    reminder_no: int = Field(ge=1, description="1 for the first reminder, 2 for the second …")
    expires_at: datetime


class SurveyExpiredV1(_SurveyEvent):
    expired_at: datetime


class FollowUpOpenedV1(Schema):
    ticket_no: str
    follow_up_id: str
    survey_id: str
    engineer_id: str | None = None
    owner_role: Literal["supervisor"] = "supervisor"
    reasons: list[str] = Field(min_length=1, description="the low scores, e.g. `overall=3`")
    due_at: datetime


# --------------------------------------------------------------------------------------
# Complaints: every event names the ticket and the complaint
# --------------------------------------------------------------------------------------
class _ComplaintEvent(Schema):
    ticket_no: str
    complaint_id: str


class ComplaintRegisteredV1(_ComplaintEvent):
    source: Literal["intake", "agent"]
    severity: ComplaintSeverity
    owner: str | None = None
    deadline: datetime
    registered_at: datetime


class ComplaintEscalatedV1(_ComplaintEvent):
    severity: ComplaintSeverity
    level: int = Field(ge=1, description="1: branch manager, 2: general manager")
    escalated_to: str
    escalated_at: datetime
    next_deadline: datetime


class ComplaintResolvedV1(_ComplaintEvent):
    resolution: str = Field(min_length=1)
    resolved_by: str
    resolved_at: datetime


class ComplaintConfirmedV1(_ComplaintEvent):
    satisfied: bool = Field(description="the customer accepted the resolution (closed); "
                                        "false reopens it")
    confirmed_at: datetime


class ReturnVisitCompletedV1(Schema):
    ticket_no: str
    visit_id: str
    kind: Literal["after_completion", "seasonal", "annual"]
    plan_id: str | None = None
    outcome: VisitOutcome
    completed_at: datetime
    by: str
    request_id: str | None = Field(default=None, description="the new request published to "
                                   "intake (source `return_visit`) when a problem was found")


# type, version, schema, summary (docs/events.md); in the order they were first registered
SPECS = (
    ("survey_issued", 1, SurveyIssuedV1,
     "A satisfaction survey was issued to the customer for the completed ticket."),
    ("survey_answered", 1, SurveyAnsweredV1,
     "The customer answered the survey; `follow_up_required` when any score is ≤ 2 or "
     "the overall score ≤ 3 (the branch supervisor calls back)."),
    ("survey_reminded", 1, SurveyRemindedV1,
     "The customer has not answered yet: a reminder was sent (the link itself is not in "
     "the event)."),
    ("survey_expired", 1, SurveyExpiredV1,
     "The survey was not answered before its expiry; the link answers 410 Gone."),
    ("follow_up_opened", 1, FollowUpOpenedV1,
     "A low score (any dimension ≤ 2 or overall ≤ 3) opened a follow-up for the branch "
     "supervisor; it counts against the engineer's KPIs."),
    ("complaint_registered", 1, ComplaintRegisteredV1,
     "A complaint was registered (from an intake ticket of category complaint, or by an "
     "agent) with its severity, owner and deadline."),
    ("complaint_escalated", 1, ComplaintEscalatedV1,
     "A complaint was not resolved by its deadline: escalated one level."),
    ("complaint_resolved", 1, ComplaintResolvedV1,
     "The complaint's owner recorded the resolution; the customer's confirmation is awaited."),
    ("complaint_confirmed", 1, ComplaintConfirmedV1,
     "The customer confirmed the resolution (complaint closed) or rejected it (reopened)."),
    ("return_visit_completed", 1, ReturnVisitCompletedV1,
     "A return visit's outcome was recorded; `problem_found` also opens a new request "
     "through the phone-center contract (source `return_visit`)."),
)
