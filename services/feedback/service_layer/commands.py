"""What people and the scheduler ask of feedback: one command, one handler (the table is in
``bootstrap.py``). ``now`` is given by tests (months pass in no time); None is the clock's
now, read when the handler runs."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aftersales.auth import Principal

from ..domain import model
from ..domain import visits as rv


# -- surveys and follow-ups --------------------------------------------------------------------
@dataclass(frozen=True)
class AnswerSurvey:
    """The customer's answer over the link (the token is the credential)."""
    token: str
    answer: dict
    now: datetime | None = None


@dataclass(frozen=True)
class RecordPhoneAnswer:
    """An agent records the answers a customer gave on the phone."""
    principal: Principal
    survey_id: str
    answer: dict
    now: datetime | None = None


@dataclass(frozen=True)
class CloseFollowUp:
    principal: Principal
    follow_up_id: str
    note: str
    now: datetime | None = None


# -- complaints --------------------------------------------------------------------------------
@dataclass(frozen=True)
class RegisterComplaint:
    principal: Principal
    ticket_no: str
    branch: str | None
    severity: str
    description: str
    owner: str | None = None
    deadline: datetime | None = None
    now: datetime | None = None


@dataclass(frozen=True)
class AddComplaintNote:
    principal: Principal
    complaint_id: str
    text: str
    now: datetime | None = None


@dataclass(frozen=True)
class AssignComplaint:
    principal: Principal
    complaint_id: str
    owner: str
    now: datetime | None = None


@dataclass(frozen=True)
class ResolveComplaint:
    principal: Principal
    complaint_id: str
    text: str
    now: datetime | None = None


@dataclass(frozen=True)
class ConfirmComplaint:
    """The customer's answer to the resolution, recorded by an agent."""
    principal: Principal
    complaint_id: str
    satisfied: bool
    note: str | None = None
    now: datetime | None = None


# -- return visits and plans -------------------------------------------------------------------
@dataclass(frozen=True)
class RecordVisitOutcome:
    principal: Principal
    visit_id: str
    outcome: str
    notes: str | None = None
    problem: str | None = None
    category: str | None = None
    priority: str | None = None
    now: datetime | None = None


@dataclass(frozen=True)
class PutVisitPlan:
    principal: Principal
    plan_id: str
    definition: dict
    now: datetime | None = None


@dataclass(frozen=True)
class GenerateVisitPlan:
    """Schedule a plan's visits for a year now (again: only new projects are added)."""
    principal: Principal
    plan_id: str
    year: int
    now: datetime | None = None


# -- the scheduler's units of work (service_layer/scan.py) -------------------------------------
@dataclass(frozen=True)
class RemindSurvey:
    survey: model.Survey      # as the scan found it due
    reminder_no: int
    now: datetime


@dataclass(frozen=True)
class ExpireSurvey:
    survey: model.Survey
    now: datetime


@dataclass(frozen=True)
class EscalateComplaint:
    complaint_id: str
    now: datetime


@dataclass(frozen=True)
class RunVisitPlan:
    plan: rv.Plan
    year: int
    now: datetime
