"""The answers of feedback's HTTP routes, for its OpenAPI document: exactly what the views
(``service_layer/views.py``, ``reports.py``) and the commands return. Every model forbids
fields it does not list, so an answer that grows a field without its documentation fails
the Schemathesis run (tests/test_openapi_fuzz.py).

A field typed ``X | None`` without a default is always present and may be null; a field made
with :func:`absent` is sometimes left out (never null)."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from aftersales.contracts.events import COMPLAINT_SEVERITIES

from .domain import complaints as cp
from .domain import stats
from .domain import visits as rv


def _no_default(schema: dict) -> None:
    schema.pop("default", None)


def absent(**kw):
    """A field the answer leaves out when it has nothing to say (not required, never null)."""
    return Field(default=None, json_schema_extra=_no_default, **kw)


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


Stamp = datetime   # ISO-8601 with its offset (UTC for stored instants)


# -- surveys ------------------------------------------------------------------------------------
class ScoreQuestion(_Answer):
    field: str = Field(description="the answer's field (response_speed, ..., overall, recommend)")
    label: str
    type: Literal["score"]
    min: int
    max: int


class TextQuestion(_Answer):
    field: str
    label: str
    type: Literal["text"]
    required: bool
    max_length: int


class CustomerSurvey(_Answer):
    """What the customer's link shows: the survey's state and its questions."""
    survey_id: str
    ticket_no: str
    status: Literal["pending", "answered"]
    expires_at: Stamp
    questions: list[ScoreQuestion | TextQuestion]


class SurveyAnswered(_Answer):
    """A survey just answered (over the link or recorded on the phone)."""
    survey_id: str
    ticket_no: str
    status: Literal["answered"]
    answered_at: Stamp
    channel: Literal["link", "phone"]
    follow_up_required: bool = Field(description="a low score: a supervisor calls back")
    message: str


class AnswerScores(_Answer):
    response_speed: int
    attitude: int
    professionalism: int
    effectiveness: int
    communication: int
    overall: int
    recommend: int
    comment: str | None


class Contact(_Answer):
    contact_name: str | None
    phone: str | None
    email: str | None


class StaffSurvey(_Answer):
    survey_id: str
    ticket_no: str
    branch: str
    engineer_id: str | None
    status: Literal["pending", "answered", "expired"]
    issued_at: Stamp
    expires_at: Stamp
    answered_at: Stamp | None
    reminders_sent: int
    channel: Literal["link", "phone"] | None
    follow_up_required: bool
    answer: AnswerScores | None
    token: str = absent(description="the link's secret: agents, managers and admins only")
    contact: Contact = absent(description="the customer to call: agents, managers and admins "
                                          "only, when feedback knows the ticket's customer")


class TicketSurveys(_Answer):
    ticket_no: str
    surveys: list[StaffSurvey]


# -- follow-ups ---------------------------------------------------------------------------------
class FollowUp(_Answer):
    """A supervisor's call-back after a low score."""
    follow_up_id: str
    survey_id: str
    ticket_no: str
    branch: str
    engineer_id: str | None
    reasons: list[str] = Field(description='the low scores, e.g. "overall=2"')
    status: Literal["open", "closed"]
    overdue: bool
    opened_at: Stamp
    due_at: Stamp
    closed_at: Stamp | None
    closed_by: str | None
    note: str | None


class FollowUps(_Answer):
    branch: str | None = Field(description="the branch listed; null: every branch (HQ)")
    follow_ups: list[FollowUp]


# -- complaints ---------------------------------------------------------------------------------
class ComplaintNote(_Answer):
    at: Stamp
    by: str
    text: str


class Complaint(_Answer):
    complaint_id: str
    ticket_no: str
    branch: str
    source: Literal["intake", "agent"]
    severity: Literal[COMPLAINT_SEVERITIES]
    description: str
    owner: str | None
    engineer_id: str | None
    status: Literal[cp.OPEN, cp.RESOLVED, cp.CLOSED]
    registered_at: Stamp
    deadline: Stamp
    overdue: bool
    escalation_level: int = Field(ge=0, le=cp.MAX_LEVEL)
    escalated_to: Literal[tuple(cp.ESCALATION.values())] | None
    notes: list[ComplaintNote]
    resolution: str | None
    resolved_at: Stamp | None
    resolved_by: str | None
    confirmed_at: Stamp | None
    satisfied: bool | None


class Complaints(_Answer):
    branch: str | None = Field(description="the branch listed; null: every branch (HQ)")
    complaints: list[Complaint]


# -- return visits and plans --------------------------------------------------------------------
class Visit(_Answer):
    visit_id: str
    ticket_no: str
    branch: str
    kind: Literal[rv.KINDS]
    plan_id: str | None
    label: str | None
    due_at: Stamp
    due: bool
    status: Literal[rv.SCHEDULED, rv.DONE]
    outcome: Literal[rv.OUTCOMES] | None
    notes: str | None
    completed_at: Stamp | None
    completed_by: str | None
    request_id: str | None = Field(description="the new request a problem found opened")


class VisitCustomer(_Answer):
    name: str | None
    contact_name: str | None
    phone: str | None


class VisitSite(_Answer):
    """The ticket's site as intake recorded it (empty when feedback has not seen it)."""
    address: str = absent()
    project: str = absent()
    contract_no: str = absent()


class DueVisit(Visit):
    customer: VisitCustomer = absent(description="when feedback knows the ticket")
    site: VisitSite = absent(description="when feedback knows the ticket")


class Visits(_Answer):
    branch: str
    visits: list[DueVisit]


class Plan(_Answer):
    plan_id: str
    name: str
    kind: Literal[rv.SEASONAL, rv.ANNUAL]
    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)
    categories: list[str]
    keywords: list[str]
    branches: list[str]
    active: bool


class Plans(_Answer):
    plans: list[Plan]


class PlanRun(_Answer):
    plan_id: str
    year: int
    scheduled: int = Field(ge=0, description="visits added (projects already scheduled are not)")


# -- the monthly report -------------------------------------------------------------------------
Share = float | None   # a percentage rounded to 0.1; null when its denominator is 0


class ScoreDistribution(_Answer):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    one: int = Field(alias="1")
    two: int = Field(alias="2")
    three: int = Field(alias="3")
    four: int = Field(alias="4")
    five: int = Field(alias="5")


class SurveyFigures(_Answer):
    issued: int
    answered_of_issued: int
    response_rate: Share
    answered: int
    csat: Share
    average_overall: float | None
    nps: float | None = Field(description="-100 to 100; null without answers")
    overall_distribution: ScoreDistribution
    low_score_follow_ups: int


class BySeverity(_Answer):
    low: int
    medium: int
    high: int


class ComplaintFigures(_Answer):
    registered: int
    by_severity: BySeverity
    escalated: int
    resolved: int
    closed_confirmed: int


class JobFigures(_Answer):
    closed: int
    first_time_fix: int
    first_time_fix_rate: Share
    rework: int


class StageFigures(_Answer):
    completed: int
    met: int
    adherence: Share


class SlaFigures(_Answer):
    response: StageFigures
    dispatch: StageFigures
    arrival: StageFigures
    resolution: StageFigures


class CauseCount(_Answer):
    cause: str
    count: int


class SkuQuantity(_Answer):
    sku: str
    quantity: int


class PartFigures(_Answer):
    total_quantity: int
    by_sku: list[SkuQuantity]


class VisitFigures(_Answer):
    due: int
    done: int
    problems_found: int


class EngineerFigures(_Answer):
    engineer_id: str
    jobs_closed: int
    first_time_fix_rate: Share
    answered: int
    csat: Share
    average_overall: float | None
    nps: float | None
    low_score_follow_ups: int
    complaints: int


class MonthlyReport(_Answer):
    """The monthly quality report of one branch (definitions in docs/feedback.md)."""
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    branch: str
    month: str = Field(pattern=r"^\d{4}-\d{2}$")
    timezone: str
    from_: Stamp = Field(alias="from", description="the month's first instant (local offset)")
    until: Stamp = Field(description="the next month's first instant")
    surveys: SurveyFigures
    complaints: ComplaintFigures
    jobs: JobFigures
    sla: SlaFigures
    fault_causes: list[CauseCount] = Field(max_length=stats.TOP_CAUSES)
    parts: PartFigures
    return_visits: VisitFigures
    engineers: list[EngineerFigures]

