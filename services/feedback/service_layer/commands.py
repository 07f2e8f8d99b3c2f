"""What people and the scheduler ask of feedback: one command, one handler (the table is in
``bootstrap.py``). ``now`` (keyword only) is given by tests (months pass in no time) and by
the scheduler (one instant per pass); None is the clock's now, read when the handler runs."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from aftersales.auth import Principal

from ..domain import model
from ..domain import visits as rv


@dataclass(frozen=True)
class Command:
    now: datetime | None = field(default=None, kw_only=True)


@dataclass(frozen=True)
class StaffCommand(Command):
    """A command of a person with an API key (authorised by its handler)."""
    principal: Principal


@dataclass(frozen=True)
class ComplaintCommand(StaffCommand):
    complaint_id: str


# -- surveys and follow-ups --------------------------------------------------------------------
@dataclass(frozen=True)
class AnswerSurvey(Command):
    """The customer's answer over the link (the token is the credential)."""
    token: str
    answer: dict


@dataclass(frozen=True)
class RecordPhoneAnswer(StaffCommand):
    """An agent records the answers a customer gave on the phone."""
    survey_id: str
    answer: dict


@dataclass(frozen=True)
class CloseFollowUp(StaffCommand):
    follow_up_id: str
    note: str


# -- complaints --------------------------------------------------------------------------------
@dataclass(frozen=True)
class RegisterComplaint(StaffCommand):
    ticket_no: str
    branch: str | None
    severity: str
    description: str
    owner: str | None = None
    deadline: datetime | None = None


@dataclass(frozen=True)
class AddComplaintNote(ComplaintCommand):
    text: str


@dataclass(frozen=True)
class AssignComplaint(ComplaintCommand):
    owner: str


@dataclass(frozen=True)
class ResolveComplaint(ComplaintCommand):
    text: str


@dataclass(frozen=True)
class ConfirmComplaint(ComplaintCommand):
    """The customer's answer to the resolution, recorded by an agent."""
    satisfied: bool
    note: str | None = None


# -- return visits and plans -------------------------------------------------------------------
@dataclass(frozen=True)
class RecordVisitOutcome(StaffCommand):
    visit_id: str
    outcome: str
    notes: str | None = None
    problem: str | None = None
    category: str | None = None
    priority: str | None = None


@dataclass(frozen=True)
class PutVisitPlan(StaffCommand):
    plan_id: str
    definition: dict


@dataclass(frozen=True)
class GenerateVisitPlan(StaffCommand):
    """Schedule a plan's visits for a year now (again: only new projects are added)."""
    plan_id: str
    year: int


# -- the scheduler's units of work (service_layer/scan.py) -------------------------------------
@dataclass(frozen=True)
class RemindSurvey(Command):
    survey: model.Survey      # as the scan found it due
    reminder_no: int


@dataclass(frozen=True)
class ExpireSurvey(Command):
    survey: model.Survey


@dataclass(frozen=True)
class EscalateComplaint(Command):
    complaint_id: str


@dataclass(frozen=True)
class RunVisitPlan(Command):
    plan: rv.Plan
    year: int
