"""Every event schema of the platform, in one place, versioned.

An event is published on the exchange ``{source}.events`` (topic, durable) with the routing key
equal to its ``type``. Its body is an :class:`~aftersales.contracts.envelope.Envelope` whose
``data`` validates against the schema registered here for ``(type, version)``. Consumers
ignore fields they do not know (``extra="ignore"``), so adding an optional field is not a new
version; removing or changing one is.

``docs/events.md`` is generated from this module (``aftersales events-doc``) and a test keeps
it true.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..money import Money

CHANNELS = ("phone", "email", "web", "wechat", "onsite")
CATEGORIES = (
    "emergency_repair", "fault", "maintenance", "consultation",
    "parts", "training", "installation", "complaint",
)
PRIORITIES = ("A", "B", "C")
PHONE_RE = re.compile(r"^\+?[0-9][0-9\- ]{5,19}$")

Channel = Literal["phone", "email", "web", "wechat", "onsite"]
Category = Literal[
    "emergency_repair", "fault", "maintenance", "consultation",
    "parts", "training", "installation", "complaint",
]
Priority = Literal["A", "B", "C"]


class _Schema(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


def _nonblank(v: str) -> str:
    if not v or not v.strip():
        raise ValueError("must not be empty")
    return v


# --------------------------------------------------------------------------------------
# Inbound: the phone-center contract (not enveloped: it is the integrators' format)
# --------------------------------------------------------------------------------------
class Customer(_Schema):
    name: str = Field(min_length=1, max_length=200)
    contact_name: str = Field(min_length=1, max_length=100)
    phone: str
    email: str | None = Field(default=None, max_length=254)

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str) -> str:
        if not PHONE_RE.match(v or ""):
            raise ValueError("is not a phone number (digits, optional leading +, spaces or dashes)")
        return v

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", v):
            raise ValueError("is not an e-mail address")
        return v


class Site(_Schema):
    address: str = Field(min_length=1, max_length=500)
    project: str | None = Field(default=None, max_length=200)
    contract_no: str | None = Field(default=None, max_length=100)


class Asset(_Schema):
    serial_no: str | None = Field(default=None, max_length=100)
    model: str | None = Field(default=None, max_length=100)
    component: str | None = Field(default=None, max_length=100)


class Fault(_Schema):
    description: str = Field(min_length=1, max_length=5000)
    category: Category | None = None

    _desc = field_validator("description")(_nonblank)


class RepairRequested(_Schema):
    """Phone-center intake event: exchange ``phone_center.events``, key ``repair_requested``."""

    request_id: str = Field(min_length=1, max_length=100)
    source: str = Field(min_length=1, max_length=100)
    branch: str = Field(min_length=1, max_length=20)
    channel: Channel
    received_at: datetime
    customer: Customer
    site: Site
    asset: Asset = Field(default_factory=Asset)
    fault: Fault
    priority: Priority | None = None
    expected_by: datetime | None = None

    @field_validator("received_at", "expected_by", mode="before")
    @classmethod
    def _with_offset(cls, v):
        if v is None:
            return v
        if not isinstance(v, str):
            raise ValueError("must be an ISO-8601 time stamp string with an offset")
        try:
            parsed = datetime.fromisoformat(v.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("is not an ISO-8601 time stamp") from None
        if parsed.tzinfo is None:
            raise ValueError("has no UTC offset (write e.g. 2026-11-22T09:30:00+08:00)")
        return parsed


# --------------------------------------------------------------------------------------
# Events between services (data part of the envelope)
# --------------------------------------------------------------------------------------
class FieldError(_Schema):
    field: str
    message: str


class WarrantyDecision(_Schema):
    status: Literal["in_warranty", "expired", "unknown_asset"]
    ends_on: date | None = None
    component_category: str | None = None


class TicketOpenedV1(_Schema):
    ticket_no: str
    request_id: str
    source: str
    channel: Channel
    received_at: datetime
    priority: Priority
    category: Category
    needs_visit: bool
    customer: Customer
    site: Site
    asset: Asset
    fault: Fault
    warranty: WarrantyDecision
    duplicate: bool = False
    linked_to: str | None = None     # a suspected duplicate: linked to this open ticket, no visit
    split_from: str | None = None    # re-sent when an agent splits a linked ticket off


class CustomerContactedV1(_Schema):
    ticket_no: str
    contacted_at: datetime
    by: str = Field(min_length=1, description="who contacted the customer (the API key's subject)")
    channel: Literal["phone", "sms", "email", "wechat", "onsite"] = "phone"
    note: str | None = None


class TicketReclassifiedV1(_Schema):
    ticket_no: str
    priority: Priority
    category: Category
    previous_priority: Priority
    previous_category: Category
    needs_visit: bool
    reason: str = Field(min_length=1)
    by: str


class TicketResolvedV1(_Schema):
    ticket_no: str
    resolved_at: datetime
    resolution: str = Field(min_length=1)
    by: str


class TicketCancelledV1(_Schema):
    ticket_no: str
    cancelled_at: datetime
    reason: str = Field(min_length=1)
    by: str


class TicketLinkedV1(_Schema):
    ticket_no: str            # the open ticket the new request was linked to
    linked_ticket_no: str     # the new request's ticket
    serial_no: str


class RequestRejectedV1(_Schema):
    request_id: str | None
    source: str | None
    errors: list[FieldError]


class EngineerAssignedV1(_Schema):
    ticket_no: str
    engineer_id: str
    engineer_name: str
    reason: str
    previous_engineer_id: str | None = None   # a reassignment: who had it before
    manual: bool = False                      # chosen by a dispatcher, not ranked


class AssignmentFailedV1(_Schema):
    ticket_no: str
    reason: str
    escalated_to: str
    offered: list[str] = Field(default_factory=list,
                               description="free engineers of neighbouring branches (ids)")


class JobAcceptedV1(_Schema):
    ticket_no: str
    engineer_id: str
    accepted_at: datetime


class EngineerCheckedInV1(_Schema):
    ticket_no: str
    engineer_id: str
    checked_in_at: datetime


class PartLine(_Schema):
    sku: str = Field(min_length=1)
    quantity: int = Field(ge=1)
    serial_no: str | None = None


class JobCompletedV1(_Schema):
    ticket_no: str
    engineer_id: str
    completed_at: datetime
    summary: str
    parts_used: list[PartLine] = Field(default_factory=list)


class PartsConsumedV1(_Schema):
    ticket_no: str
    warehouse: str
    lines: list[PartLine]
    shortages: list[PartLine] = Field(default_factory=list)


class SurveyIssuedV1(_Schema):
    ticket_no: str
    survey_id: str
    expires_at: datetime


class SurveyAnsweredV1(_Schema):
    ticket_no: str
    survey_id: str
    engineer_id: str | None = None
    overall: int = Field(ge=1, le=5)
    recommend: int = Field(ge=0, le=10)
    follow_up_required: bool
    answered_at: datetime


# --------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------
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


EVENTS: dict[tuple[str, int], EventSpec] = {}


def _register(source: str, type_: str, version: int, schema: type[BaseModel], summary: str) -> None:
    EVENTS[(type_, version)] = EventSpec(source, type_, version, schema, summary)


_register("intake", "ticket_opened", 1, TicketOpenedV1,
          "A request was accepted and a ticket numbered. Also re-sent with `duplicate: true` and "
          "the same `ticket_no` when the same (source, request_id) arrives again.")
_register("intake", "customer_contacted", 1, CustomerContactedV1,
          "First (or further) human contact with the customer, recorded by an agent: the response stage.")
_register("intake", "ticket_reclassified", 1, TicketReclassifiedV1,
          "An agent overrode priority and/or category, with a reason; the previous values are kept.")
_register("intake", "ticket_resolved", 1, TicketResolvedV1,
          "Resolved without a visit (e.g. a consultation answered remotely).")
_register("intake", "ticket_cancelled", 1, TicketCancelledV1,
          "The customer cancelled before the work was done; the reason is recorded.")
_register("intake", "ticket_linked", 1, TicketLinkedV1,
          "A new request for the same asset serial as an open ticket was linked to it (no second "
          "dispatch); an agent may split it off, which re-sends `ticket_opened` with `split_from`.")
_register("intake", "request_rejected", 1, RequestRejectedV1,
          "A request was refused: a field failed validation or is beyond the limits, or its "
          "`request_id` belongs to another branch's request; every offending field is named. "
          "The original message is parked.")
_register("dispatch", "engineer_assigned", 1, EngineerAssignedV1,
          "An engineer was chosen for the ticket; `reason` explains the choice.")
_register("dispatch", "assignment_failed", 1, AssignmentFailedV1,
          "Nobody in the branch could take the ticket; it was escalated.")
_register("dispatch", "job_accepted", 1, JobAcceptedV1, "The assigned engineer accepted the job.")
_register("dispatch", "engineer_checked_in", 1, EngineerCheckedInV1, "The engineer checked in on site.")
_register("dispatch", "job_completed", 1, JobCompletedV1,
          "The engineer completed the work; `parts_used` lists the parts fitted.")
_register("parts", "parts_consumed", 1, PartsConsumedV1,
          "Parts fitted on a job were taken out of the branch warehouse's stock.")
_register("feedback", "survey_issued", 1, SurveyIssuedV1,
          "A satisfaction survey was issued to the customer for the completed ticket.")
_register("feedback", "survey_answered", 1, SurveyAnsweredV1,
          "The customer answered the survey; `follow_up_required` when any score is ≤ 2 or "
          "the overall score ≤ 3 (the branch supervisor calls back).")


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


# --------------------------------------------------------------------------------------
# Parts: parts requests, stock and returns of faulty parts (RMA)
# --------------------------------------------------------------------------------------

PartReturnDecision = Literal["repaired_and_restocked", "scrapped", "design_defect"]


class PartsRequestedLine(_Schema):
    sku: str = Field(min_length=1, max_length=40)
    quantity: int = Field(ge=1, le=10000)


class PartsRequestedV1(_Schema):
    ticket_no: str
    requested_by: str = Field(min_length=1, description="the engineer (id) or dispatcher asking")
    in_warranty: bool
    lines: list[PartsRequestedLine] = Field(min_length=1, max_length=100)
    note: str | None = Field(default=None, max_length=2000)


class PartsQuantity(_Schema):
    sku: str
    quantity: int = Field(ge=1)


class PartsPricedLine(_Schema):
    sku: str
    name: str
    unit: str
    quantity: int = Field(ge=1)
    unit_price: Money = Field(ge=0, description="CNY, the price on a paid job")
    line_total: Money = Field(ge=0, description="unit_price × quantity")


class PartsRequestApprovedV1(_Schema):
    request_id: str
    ticket_no: str
    in_warranty: bool
    approved_by: str = Field(description="the manager (the API key's subject), or `auto` (auto-approval rule)")
    auto_approved: bool
    approved_at: datetime
    currency: Literal["CNY"] = "CNY"
    lines: list[PartsPricedLine]
    total: Money = Field(ge=0, description="sum of the line totals")
    chargeable_total: Money = Field(
        ge=0, description="what the customer pays for the parts: 0 in warranty, else total")


class PartsRequestRejectedV1(_Schema):
    request_id: str
    ticket_no: str
    rejected_by: str
    reason: str
    rejected_at: datetime


class PartsReservedV1(_Schema):
    request_id: str
    ticket_no: str
    warehouse: str
    lines: list[PartsQuantity]
    complete: bool = Field(description="every line of the request is now reserved")
    transfer_id: str | None = None    # the parts came from another branch
    backorder_id: str | None = None   # the parts came from the supplier


class PartsTransferStartedV1(_Schema):
    transfer_id: str
    from_warehouse: str
    to_warehouse: str
    lines: list[PartsQuantity]
    expected_at: datetime
    request_id: str | None = None
    ticket_no: str | None = None


class PartsBackorderedLine(_Schema):
    backorder_id: str
    sku: str
    quantity: int = Field(ge=1)
    lead_time_days: int = Field(ge=0)
    expected_at: datetime


class PartsBackorderedV1(_Schema):
    request_id: str
    ticket_no: str
    warehouse: str
    lines: list[PartsBackorderedLine]
    expected_at: datetime = Field(description="when the last backordered line is expected")


class PartsShippedV1(_Schema):
    request_id: str
    ticket_no: str
    warehouse: str
    lines: list[PartsQuantity]
    shipped_by: str
    shipped_at: datetime


class PartsDeliveredV1(_Schema):
    request_id: str
    ticket_no: str
    delivered_by: str
    delivered_at: datetime


class ReorderNeededV1(_Schema):
    warehouse: str
    sku: str
    name: str
    on_hand: int
    reserved: int
    available: int
    reorder_point: int
    suggested_quantity: int = Field(ge=1)
    lead_time_days: int


class PartReturnReceivedV1(_Schema):
    return_id: str
    ticket_no: str | None = None
    sku: str
    serial_no: str | None = None
    model: str
    fault: str
    received_at: datetime


class PartReturnInspectedV1(_Schema):
    return_id: str
    ticket_no: str | None = None
    sku: str
    serial_no: str | None = None
    model: str
    decision: PartReturnDecision
    note: str | None = None
    inspected_by: str
    inspected_at: datetime


class DesignDefectReportedV1(_Schema):
    return_id: str
    ticket_no: str | None = None
    sku: str
    serial_no: str | None = None
    model: str
    fault: str
    finding: str | None = None
    reported_by: str
    reported_at: datetime


_register("dispatch", "parts_requested", 1, PartsRequestedV1,
          "An engineer needs parts for a ticket (the parts request, 售后维护申请单); parts "
          "approves it (or waits for the branch manager) and reserves, transfers or backorders.")
_register("parts", "parts_request_approved", 1, PartsRequestApprovedV1,
          "A parts request was approved (by the manager or the in-warranty auto-approval rule); "
          "unit prices and totals for the quote of a paid job.")
_register("parts", "parts_request_rejected", 1, PartsRequestRejectedV1,
          "The branch manager rejected a parts request, or it named parts not in the catalogue.")
_register("parts", "parts_reserved", 1, PartsReservedV1,
          "Parts of a request were reserved in the branch warehouse (from stock, after a "
          "transfer arrived, or after a backorder arrived); `complete` when nothing is missing.")
_register("parts", "parts_transfer_started", 1, PartsTransferStartedV1,
          "The branch was short: parts left the nearest branch that had them, on their way.")
_register("parts", "parts_backordered", 1, PartsBackorderedV1,
          "Nobody had the parts: ordered from the supplier; `expected_at` from its lead time.")
_register("parts", "parts_shipped", 1, PartsShippedV1,
          "Reserved parts left the warehouse for the site.")
_register("parts", "parts_delivered", 1, PartsDeliveredV1,
          "The parts of a request were handed over on site.")
_register("parts", "reorder_needed", 1, ReorderNeededV1,
          "Available stock of a SKU in a warehouse fell to or below its reorder point (once per "
          "crossing).")
_register("parts", "part_return_received", 1, PartReturnReceivedV1,
          "A part removed on site came back (RMA, 售后维修单) and waits for QC.")
_register("parts", "part_return_inspected", 1, PartReturnInspectedV1,
          "QC decided on a returned part: repaired_and_restocked, scrapped or design_defect.")
_register("parts", "design_defect_reported", 1, DesignDefectReportedV1,
          "QC found a design defect in a returned part: reported to R&D with model and fault.")


# --------------------------------------------------------------------------------------
# Dispatch: the job's steps, the roster and the SLA clocks
# --------------------------------------------------------------------------------------
SlaStage = Literal["response", "dispatch", "arrival", "resolution"]
SLA_STAGES = ("response", "dispatch", "arrival", "resolution")
DiagnosisCause = Literal["design", "material", "workmanship", "installation", "misuse",
                         "environment", "force_majeure"]
DIAGNOSIS_CAUSES = ("design", "material", "workmanship", "installation", "misuse",
                    "environment", "force_majeure")
EscalationLevel = Literal["supervisor", "general_manager"]


class JobDiagnosedV1(_Schema):
    ticket_no: str
    engineer_id: str | None = None
    cause: DiagnosisCause
    responsibility: str = Field(min_length=1, max_length=100,
                                description="who is responsible: company, supplier, customer, "
                                            "third_party, none")
    warranty_void: bool = False
    void_reason: str | None = Field(default=None, max_length=2000)
    chargeable: bool = Field(description="paid work: out of warranty or warranty void")
    findings: str | None = Field(default=None, max_length=5000)
    diagnosed_at: datetime


class JobClosedV1(_Schema):
    ticket_no: str
    engineer_id: str | None = None
    priority: Priority
    category: Category
    completed_at: datetime = Field(description="when the accepted work was (last) completed")
    signed_off_at: datetime = Field(description="the customer's sign-off (验收)")
    closed_at: datetime
    visits: int = Field(ge=1, description="on-site check-ins it took")
    rework_count: int = Field(ge=0, description="sign-offs the customer rejected")
    first_time_fix: bool = Field(description="signed off at the first completion, one visit")


class SlaStageCompletedV1(_Schema):
    ticket_no: str
    stage: SlaStage
    priority: Priority
    deadline: datetime
    completed_at: datetime
    elapsed_seconds: float = Field(ge=0, description="clock time used (working hours only on "
                                                     "a working-hours clock; pauses excluded)")
    target_seconds: float = Field(gt=0)
    met: bool


class SlaAtRiskV1(_Schema):
    ticket_no: str
    stage: SlaStage
    priority: Priority
    deadline: datetime
    at_risk_at: datetime = Field(description="when the at-risk share of the target was used")


class SlaBreachedV1(_Schema):
    ticket_no: str
    stage: SlaStage
    priority: Priority
    deadline: datetime
    breached_at: datetime
    escalation_level: EscalationLevel
    escalated_to: str | None = Field(default=None, description="the supervisor's id, or the "
                                                               "general manager's")


_register("dispatch", "job_diagnosed", 1, JobDiagnosedV1,
          "The engineer diagnosed the fault: cause, responsibility, and whether the warranty is "
          "void (with the reason) and the work chargeable.")
_register("dispatch", "job_closed", 1, JobClosedV1,
          "The customer signed the work off and the job is closed; `first_time_fix` and "
          "`rework_count` for the quality statistics.")
_register("dispatch", "sla_stage_completed", 1, SlaStageCompletedV1,
          "An SLA stage (response, dispatch, arrival, resolution) completed; `met` when before "
          "its deadline.")
_register("dispatch", "sla_at_risk", 1, SlaAtRiskV1,
          "An open SLA stage used its at-risk share of the target (default 80 %).")
_register("dispatch", "sla_breached", 1, SlaBreachedV1,
          "An SLA stage's deadline passed before it completed; escalated to the supervisor (B, C) "
          "or the general manager (A).")

class AppointmentSetV1(_Schema):
    ticket_no: str
    engineer_id: str | None = None
    window_from: datetime
    window_to: datetime
    agreed_at: datetime = Field(description="when the time was agreed with the customer: the "
                                            "first human contact if none came before (response)")
    note: str | None = Field(default=None, max_length=2000)


class EngineerEnRouteV1(_Schema):
    ticket_no: str
    engineer_id: str | None = None
    departed_at: datetime
    eta: datetime | None = None


class QuoteIssuedV1(_Schema):
    ticket_no: str
    engineer_id: str | None = None
    currency: Literal["CNY"] = "CNY"
    materials: Money = Field(ge=0)
    labour: Money = Field(ge=0)
    travel: Money = Field(ge=0)
    total: Money = Field(ge=0)
    issued_at: datetime
    materials_source: Literal["entered", "parts_requests"] = Field(
        default="entered", description="`parts_requests`: materials is the chargeable total "
        "of the job's approved parts requests (the parts service's prices)")
    parts_request_ids: list[str] = Field(
        default_factory=list, description="the approved parts requests priced into materials")


class QuoteDecidedV1(_Schema):
    ticket_no: str
    approved: bool = Field(description="the customer approved the quote: work may start")
    total: Money = Field(ge=0)
    decided_at: datetime
    recorded_by: str


class JobDeclinedV1(_Schema):
    ticket_no: str
    engineer_id: str
    reason: str
    declined_at: datetime
    timed_out: bool = Field(default=False, description="not accepted in time (no answer)")


class JobReworkV1(_Schema):
    ticket_no: str
    engineer_id: str | None = None
    reason: str
    rejected_at: datetime
    rework_count: int = Field(ge=1)


class ProgressReportedV1(_Schema):
    ticket_no: str
    engineer_id: str | None = None
    reported_at: datetime
    progress: str
    percent: int | None = Field(default=None, ge=0, le=100)


class ProgressReportMissingV1(_Schema):
    ticket_no: str
    engineer_id: str | None = None
    last_report_at: datetime
    reminded_at: datetime


_register("dispatch", "appointment_set", 1, AppointmentSetV1,
          "The engineer agreed a visit window with the customer (counts as first human contact "
          "for the response stage).")
_register("dispatch", "engineer_en_route", 1, EngineerEnRouteV1, "The engineer set out for the site.")
_register("dispatch", "quote_issued", 1, QuoteIssuedV1,
          "Paid work (out of warranty or void): a quote of materials, labour and travel for the "
          "customer to approve before work starts.")
_register("dispatch", "quote_decided", 1, QuoteDecidedV1,
          "The customer approved (work starts) or rejected the quote; the decision is recorded.")
_register("dispatch", "job_declined", 1, JobDeclinedV1,
          "The assigned engineer declined the job, or did not accept it in time; it is reassigned.")
_register("dispatch", "job_rework", 1, JobReworkV1,
          "The customer rejected the sign-off: the work reopens (the resolution clock keeps running).")
_register("dispatch", "progress_reported", 1, ProgressReportedV1,
          "The engineer's daily progress report while the job is open on site.")
_register("dispatch", "progress_report_missing", 1, ProgressReportMissingV1,
          "A job on site went a day without a progress report: a reminder to engineer and dispatcher.")


# --------------------------------------------------------------------------------------
# Feedback: surveys, return visits and complaints
# --------------------------------------------------------------------------------------
ComplaintSeverity = Literal["low", "medium", "high"]
COMPLAINT_SEVERITIES = ("low", "medium", "high")
VisitOutcome = Literal["ok", "problem_found", "unreachable"]


class SurveyRemindedV1(_Schema):
    ticket_no: str
    survey_id: str
    reminder_no: int = Field(ge=1, description="1 for the first reminder, 2 for the second …")
    expires_at: datetime


class SurveyExpiredV1(_Schema):
    ticket_no: str
    survey_id: str
    expired_at: datetime


class FollowUpOpenedV1(_Schema):
    ticket_no: str
    follow_up_id: str
    survey_id: str
    engineer_id: str | None = None
    owner_role: Literal["supervisor"] = "supervisor"
    reasons: list[str] = Field(min_length=1, description="the low scores, e.g. `overall=3`")
    due_at: datetime


class ComplaintRegisteredV1(_Schema):
    ticket_no: str
    complaint_id: str
    source: Literal["intake", "agent"]
    severity: ComplaintSeverity
    owner: str | None = None
    deadline: datetime
    registered_at: datetime


class ComplaintEscalatedV1(_Schema):
    ticket_no: str
    complaint_id: str
    severity: ComplaintSeverity
    level: int = Field(ge=1, description="1: branch manager, 2: general manager")
    escalated_to: str
    escalated_at: datetime
    next_deadline: datetime


class ComplaintResolvedV1(_Schema):
    ticket_no: str
    complaint_id: str
    resolution: str = Field(min_length=1)
    resolved_by: str
    resolved_at: datetime


class ComplaintConfirmedV1(_Schema):
    ticket_no: str
    complaint_id: str
    satisfied: bool = Field(description="the customer accepted the resolution (closed); "
                                        "false reopens it")
    confirmed_at: datetime


class ReturnVisitCompletedV1(_Schema):
    ticket_no: str
    visit_id: str
    kind: Literal["after_completion", "seasonal", "annual"]
    plan_id: str | None = None
    outcome: VisitOutcome
    completed_at: datetime
    by: str
    request_id: str | None = Field(default=None, description="the new request published to "
                                   "intake (source `return_visit`) when a problem was found")


_register("feedback", "survey_reminded", 1, SurveyRemindedV1,
          "The customer has not answered yet: a reminder was sent (the link itself is not in "
          "the event).")
_register("feedback", "survey_expired", 1, SurveyExpiredV1,
          "The survey was not answered before its expiry; the link answers 410 Gone.")
_register("feedback", "follow_up_opened", 1, FollowUpOpenedV1,
          "A low score (any dimension ≤ 2 or overall ≤ 3) opened a follow-up for the branch "
          "supervisor; it counts against the engineer's KPIs.")
_register("feedback", "complaint_registered", 1, ComplaintRegisteredV1,
          "A complaint was registered (from an intake ticket of category complaint, or by an "
          "agent) with its severity, owner and deadline.")
_register("feedback", "complaint_escalated", 1, ComplaintEscalatedV1,
          "A complaint was not resolved by its deadline: escalated one level.")
_register("feedback", "complaint_resolved", 1, ComplaintResolvedV1,
          "The complaint's owner recorded the resolution; the customer's confirmation is awaited.")
_register("feedback", "complaint_confirmed", 1, ComplaintConfirmedV1,
          "The customer confirmed the resolution (complaint closed) or rejected it (reopened).")
_register("feedback", "return_visit_completed", 1, ReturnVisitCompletedV1,
          "A return visit's outcome was recorded; `problem_found` also opens a new request "
          "through the phone-center contract (source `return_visit`).")

from . import keys as _keys  # noqa: E402,F401  (registers key_revoked; kept in its own module)
