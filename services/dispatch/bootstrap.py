"""Dispatch's message bus: which handler takes each event and each command, and which of the
domain's errors become which of the platform's.

- ``EVENTS``: intake's tickets (opened, first contact, reclassified, ended) and the parts
  service's progress on a job's parts requests.
- ``COMMANDS``: the engineer's steps on a job (one table, ``jobs.STEPS``: each step's
  function, body class and roles; :func:`jobs.act` runs them all), the dispatcher's manual
  assignment, waiting on the customer, the roster, and the SLA timer's duties.
- ``ERRORS``: a step the job's state does not allow is a conflict (409).
- A batch of events takes the roster locks of all its branches first, in branch order
  (``assigning.lock_rosters_of_batch``): the lock order is roster, job, clocks.

Every handler gets the branches' SLA policies (``policies``, always: the clocks always run),
the service's settings (``settings``) and the evidence store (``evidence``: photos and
signatures, ``adapters/evidence.py``) when it names them.
"""
from __future__ import annotations

from aftersales.errors import Conflict
from aftersales.messagebus import MessageBus

from .adapters.evidence import evidence_for
from .adapters.policies import PolicyBook
from .adapters.repository import DispatchUnitOfWork
from .domain import model
from .service_layer import (assigning, commands, ending, evidence, jobs, opening,
                            parts_progress, roster, sla, timeouts)

EVENTS = {
    "ticket_opened": opening.on_ticket_opened,
    "customer_contacted": sla.on_customer_contacted,
    "ticket_reclassified": opening.on_reclassified,
    "ticket_cancelled": ending.on_ticket_ended,
    "ticket_resolved": ending.on_ticket_ended,
    "parts_request_approved": parts_progress.on_parts_event,
    "parts_request_rejected": parts_progress.on_parts_event,
    "parts_reserved": parts_progress.on_parts_event,
    "parts_transfer_started": parts_progress.on_parts_event,
    "parts_backordered": parts_progress.on_parts_event,
    "parts_shipped": parts_progress.on_parts_event,
    "parts_delivered": parts_progress.on_parts_event,
}

COMMANDS = {
    # the engineer's steps: AcceptJob, DeclineJob, SetAppointment, SetOut, CheckIn, Diagnose,
    # IssueQuote, DecideQuote, CompleteJob, SignOff, ReportProgress, RequestParts
    **{step: jobs.act for step in jobs.STEPS},
    commands.UploadPhoto: evidence.upload_photo,
    commands.AssignJob: assigning.assign,
    commands.WaitOnCustomer: sla.pause,
    commands.Resume: sla.resume,
    commands.PutEngineer: roster.put_engineer,
    commands.AddLeave: roster.add_leave,
    # the SLA timer's
    commands.RaiseDueSla: sla.raise_due,
    commands.TimeOutAcceptances: timeouts.time_out_acceptances,
    commands.RemindMissingReports: timeouts.remind_missing_reports,
    commands.ForgetEarlyEvents: timeouts.forget_early_events,
}

ERRORS = {
    model.InvalidTransition: lambda e: Conflict(str(e)),
}


def build(store) -> MessageBus:
    """The bus of one worker (:class:`aftersales.service.Bus`): ``store.uow`` opens its units
    of work, ``store.config`` holds the settings."""
    return _bus(store.uow, store.config)


def bus_for(session_factory, *, unit_of_work=None, policies=None, **settings) -> MessageBus:
    """The same bus over a SQLAlchemy session factory, for tests; ``unit_of_work`` replaces the
    unit-of-work factory, ``policies`` the policy book built from ``settings`` (the service's
    settings: ``accept_timeout_minutes``, ``report_interval_hours``, ``sla_policy`` ...)."""
    return _bus(unit_of_work or (lambda: DispatchUnitOfWork(session_factory, "dispatch")),
                settings, policies)


def _bus(uow, settings: dict, policies: PolicyBook | None = None) -> MessageBus:
    return MessageBus(uow, events=EVENTS, commands=COMMANDS, errors=ERRORS,
                      before_batch=assigning.lock_rosters_of_batch,
                      policies=policies or PolicyBook(settings), settings=settings,
                      evidence=evidence_for(settings))
