"""Intake's message bus: which handler takes each event and each command, and which of the
domain's errors become which of the platform's.

- ``EVENTS``: every other service's event about a ticket, as the topology binds them to
  ``aftersales.intake.events`` (:mod:`aftersales.contracts.topology`), goes onto the ticket's
  timeline. (The phone center's ``repair_requested`` is not enveloped and is de-duplicated by
  its ``(source, request_id)``, not by the inbox: its consumer sends ``ReceiveRequest``.)
- ``COMMANDS``: a repair request (the phone center's message and ``POST /api/v1/tickets``) and
  the service desk's actions.
- ``ERRORS``: an action the ticket's state does not allow is a conflict (409).
"""
from __future__ import annotations

from datetime import timedelta

from aftersales import metrics
from aftersales.config import reference_dir
from aftersales.contracts import topology
from aftersales.errors import Conflict
from aftersales.messagebus import MessageBus
from aftersales.reference import branches

from .adapters.repository import IntakeUnitOfWork
from .domain import model
from .service_layer import commands, desk, receiving, timeline

EVENTS = {binding.routing_key: timeline.record_event
          for binding in topology.queue("aftersales.intake.events").bindings}

COMMANDS = {
    commands.ReceiveRequest: receiving.receive_request,
    commands.RecordContact: desk.record_contact,
    commands.Reclassify: desk.reclassify,
    commands.ResolveRemotely: desk.resolve_remotely,
    commands.Cancel: desk.cancel,
    commands.Split: desk.split,
}

ERRORS = {
    model.TransitionError: lambda e: Conflict(str(e)),
}


def build(store) -> MessageBus:
    """The bus of one worker (:class:`aftersales.service.Bus`): ``store.uow`` opens its units
    of work, ``store.config`` holds the settings."""
    return _bus(store.uow, store.config)


def bus_for(session_factory, *, unit_of_work=None, **settings) -> MessageBus:
    """The same bus over a SQLAlchemy session factory, for tests; ``unit_of_work`` replaces the
    unit-of-work factory, ``settings`` the service's settings (``reference_dir``,
    ``received_max_age_days``)."""
    return _bus(unit_of_work or (lambda: IntakeUnitOfWork(session_factory, "intake")), settings)


def _bus(uow, settings: dict) -> MessageBus:
    ref_dir = settings.get("reference_dir") or str(reference_dir())
    known = branches(ref_dir)
    metrics.init_request_series(known)
    max_age = timedelta(days=float(settings.get("received_max_age_days",
                                                model.RECEIVED_MAX_AGE.days)))
    return MessageBus(uow, events=EVENTS, commands=COMMANDS, errors=ERRORS,
                      branches=known, policies=receiving.BranchPolicies(known, ref_dir),
                      received_max_age=max_age)
