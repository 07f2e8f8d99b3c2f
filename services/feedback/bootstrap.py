"""Feedback's message bus: every event it consumes and every command it takes, each mapped to
its handler, and how its domain errors reach the caller."""
from __future__ import annotations

from aftersales.errors import Conflict
from aftersales.messagebus import MessageBus
from aftersales.reference import branches

from .adapters.unit_of_work import FeedbackUnitOfWork
from .domain import complaints as cp
from .domain import model
from .domain import visits as rv
from .service_layer import commands, complaints, facts, scan, surveys, visits
from .service_layer.common import Settings

EVENTS = {
    "ticket_opened": facts.on_ticket_opened,
    "job_closed": facts.on_job_closed,
    "job_diagnosed": facts.on_job_diagnosed,
    "sla_stage_completed": facts.on_sla_stage_completed,
    "parts_consumed": facts.on_parts_consumed,
}

COMMANDS = {
    commands.AnswerSurvey: surveys.answer_survey,
    commands.RecordPhoneAnswer: surveys.record_phone_answer,
    commands.CloseFollowUp: surveys.close_follow_up,
    commands.RegisterComplaint: complaints.register,
    commands.AddComplaintNote: complaints.add_note,
    commands.AssignComplaint: complaints.assign,
    commands.ResolveComplaint: complaints.resolve,
    commands.ConfirmComplaint: complaints.confirm,
    commands.RecordVisitOutcome: visits.record_outcome,
    commands.PutVisitPlan: visits.put_plan,
    commands.GenerateVisitPlan: visits.generate_plan,
    # the scheduler's pass (scan.run), one unit of work each
    commands.RemindSurvey: scan.remind_survey,
    commands.ExpireSurvey: scan.expire_survey,
    commands.EscalateComplaint: scan.escalate_complaint,
    commands.RunVisitPlan: scan.run_plan,
}

ERRORS = {
    cp.ComplaintError: lambda e: Conflict(str(e)),
    rv.VisitError: lambda e: Conflict(str(e)),
    model.FollowUpError: lambda e: Conflict(str(e)),
}


def _floats(raw, default) -> tuple:
    if raw is None or raw == "":
        return tuple(default)
    if isinstance(raw, (list, tuple)):
        return tuple(float(x) for x in raw)
    return tuple(float(x) for x in str(raw).split(",") if x.strip())


def settings(config: dict) -> Settings:
    """The handlers' settings from the service's configuration (``AFTERSALES``)."""
    return Settings(
        branches=branches(config.get("reference_dir")),
        valid_days=float(config.get("survey_valid_days", model.DEFAULT_VALID_DAYS)),
        reminder_days=_floats(config.get("survey_reminder_days"), model.DEFAULT_REMINDER_DAYS),
        visit_months=tuple(int(m) for m in _floats(config.get("visit_months"),
                                                   rv.DEFAULT_VISIT_MONTHS)))


def _bus(uow, settings: Settings, **deps) -> MessageBus:
    return MessageBus(uow, events=EVENTS, commands=COMMANDS, errors=ERRORS, settings=settings,
                      **deps)


def build(store) -> MessageBus:
    """The bus of one worker (``aftersales.service.Bus``): the store's units of work."""
    return _bus(store.uow, settings(store.config))


def bus_for(session_factory, settings: Settings | None = None, **deps) -> MessageBus:
    """The same bus over a session factory (tests): feedback's units of work on it."""
    return _bus(lambda: FeedbackUnitOfWork(session_factory, "feedback"),
                settings or Settings(branches=branches()), **deps)
