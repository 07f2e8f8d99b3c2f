"""The registry of every event schema of the platform, versioned, and **the one place to import
contracts from**: ``from aftersales.contracts.events import TicketOpenedV1, PartLine, spec_for``.

An event is published on the exchange ``{source}.events`` (topic, durable) with the routing key
equal to its ``type``. Its body is an :class:`~aftersales.contracts.envelope.Envelope` whose
``data`` validates against the schema registered here for ``(type, version)``. Consumers
ignore fields they do not know (``extra="ignore"``), so adding an optional field is not a new
version; removing or changing one is.

The schemas live with their producer, one module each, and each ends with its table ``SPECS``
of ``(type, version, schema, summary)``: :mod:`.intake`, :mod:`.dispatch`, :mod:`.parts`,
:mod:`.feedback`, :mod:`.keys` (the ``aftersales keys`` command); the shared field types and
vocabularies are in :mod:`.common`, the phone centers' inbound request in :mod:`.phone_center`.
This module collects the producers' tables into :data:`EVENTS`, refusing a ``(type, version)``
registered twice, and re-exports every name (``__all__``).

``docs/events.md`` is generated from the registry (``aftersales events-doc``) and a test keeps
it true.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Iterable

from pydantic import BaseModel

from . import dispatch, feedback, intake, keys, parts
from .common import (CATEGORIES, CHANNELS, COMPLAINT_SEVERITIES, DIAGNOSIS_CAUSES, PHONE_RE,
                     PRIORITIES, SLA_STAGES, Asset, Category, Channel, ComplaintSeverity, Customer,
                     DiagnosisCause, Fault, PartLine, Priority, SlaStage, Site, WarrantyDecision)
from .dispatch import (AppointmentSetV1, AssignmentFailedV1, EngineerAssignedV1,
                       EngineerCheckedInV1, EngineerEnRouteV1, EscalationLevel, JobAcceptedV1,
                       JobClosedV1, JobCompletedV1, JobDeclinedV1, JobDiagnosedV1, JobReworkV1,
                       PartsRequestedLine, PartsRequestedV1, PhotoRef, ProgressReportedV1,
                       ProgressReportMissingV1, QuoteDecidedV1, QuoteIssuedV1, SlaAtRiskV1,
                       SignatureRef, SlaBreachedV1, SlaStageCompletedV1)
from .feedback import (ComplaintConfirmedV1, ComplaintEscalatedV1, ComplaintRegisteredV1,
                       ComplaintResolvedV1, FollowUpOpenedV1, ReturnVisitCompletedV1,
                       SurveyAnsweredV1, SurveyExpiredV1, SurveyIssuedV1, SurveyRemindedV1,
                       VisitOutcome)
from .intake import (CustomerContactedV1, FieldError, RequestRejectedV1, TicketCancelledV1,
                     TicketLinkedV1, TicketOpenedV1, TicketReclassifiedV1, TicketResolvedV1)
from .keys import KeyRevokedV1
from .parts import (DesignDefectReportedV1, PartReturnDecision, PartReturnInspectedV1,
                    PartReturnReceivedV1, PartsBackorderedLine, PartsBackorderedV1,
                    PartsConsumedV1, PartsDeliveredV1, PartsPricedLine, PartsQuantity,
                    PartsRequestApprovedV1, PartsRequestRejectedV1, PartsReservedV1,
                    PartsShippedV1, PartsTransferStartedV1, ReorderNeededV1)
from .phone_center import RepairRequested

# The producers, in the order of docs/events.md (the services, then the platform's CLI).
PRODUCERS: tuple[ModuleType, ...] = (intake, dispatch, parts, feedback, keys)


@dataclass(frozen=True)
class EventSpec:
    source: str          # publishing service; exchange is f"{source}.events"
    type: str            # routing key
    version: int
    schema: type[BaseModel]
    summary: str

    @property
    def exchange(self) -> str:
        return f"{self.source}.events"


def collect(producers: Iterable[ModuleType]) -> dict[tuple[str, int], EventSpec]:
    """Every producer's ``SPECS`` as one table keyed by ``(type, version)``; a pair that two
    rows (of one producer or two) register is refused."""
    events: dict[tuple[str, int], EventSpec] = {}
    for producer in producers:
        for type_, version, schema, summary in producer.SPECS:
            key = (type_, version)
            if key in events:
                raise ValueError(f"event {type_!r} version {version} is registered twice: "
                                 f"by {events[key].source} and by {producer.SOURCE}")
            events[key] = EventSpec(producer.SOURCE, type_, version, schema, summary)
    return events


EVENTS: dict[tuple[str, int], EventSpec] = collect(PRODUCERS)


def spec_for(type_: str, version: int) -> EventSpec:
    try:
        return EVENTS[(type_, version)]
    except KeyError:
        raise LookupError(f"no schema for event type {type_!r} version {version}") from None


def latest(type_: str) -> EventSpec:
    versions = [s for (t, _), s in EVENTS.items() if t == type_]
    if not versions:
        raise LookupError(f"unknown event type {type_!r}")
    return max(versions, key=lambda s: s.version)


__all__ = [
    # the registry
    "EVENTS", "EventSpec", "PRODUCERS", "collect", "latest", "spec_for",
    # shared field types and vocabularies (common)
    "CATEGORIES", "CHANNELS", "COMPLAINT_SEVERITIES", "DIAGNOSIS_CAUSES", "PHONE_RE",
    "PRIORITIES", "SLA_STAGES", "Asset", "Category", "Channel", "ComplaintSeverity", "Customer",
    "DiagnosisCause", "Fault", "PartLine", "Priority", "SlaStage", "Site", "WarrantyDecision",
    # the phone centers' request (inbound, not enveloped)
    "RepairRequested",
    # intake
    "CustomerContactedV1", "FieldError", "RequestRejectedV1", "TicketCancelledV1",
    "TicketLinkedV1", "TicketOpenedV1", "TicketReclassifiedV1", "TicketResolvedV1",
    # dispatch
    "AppointmentSetV1", "AssignmentFailedV1", "EngineerAssignedV1", "EngineerCheckedInV1",
    "EngineerEnRouteV1", "EscalationLevel", "JobAcceptedV1", "JobClosedV1", "JobCompletedV1",
    "JobDeclinedV1", "JobDiagnosedV1", "JobReworkV1", "PartsRequestedLine", "PartsRequestedV1",
    "PhotoRef", "ProgressReportedV1", "ProgressReportMissingV1", "QuoteDecidedV1",
    "QuoteIssuedV1", "SignatureRef", "SlaAtRiskV1", "SlaBreachedV1", "SlaStageCompletedV1",
    # parts
    "DesignDefectReportedV1", "PartReturnDecision", "PartReturnInspectedV1",
    "PartReturnReceivedV1", "PartsBackorderedLine", "PartsBackorderedV1", "PartsConsumedV1",
    "PartsDeliveredV1", "PartsPricedLine", "PartsQuantity", "PartsRequestApprovedV1",
    "PartsRequestRejectedV1", "PartsReservedV1", "PartsShippedV1", "PartsTransferStartedV1",
    "ReorderNeededV1",
    # feedback
    "ComplaintConfirmedV1", "ComplaintEscalatedV1", "ComplaintRegisteredV1",
    "ComplaintResolvedV1", "FollowUpOpenedV1", "ReturnVisitCompletedV1", "SurveyAnsweredV1",
    "SurveyExpiredV1", "SurveyIssuedV1", "SurveyRemindedV1", "VisitOutcome",
    # keys (the platform's CLI)
    "KeyRevokedV1",
]
