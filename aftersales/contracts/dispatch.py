"""The events dispatch publishes (exchange ``dispatch.events``): the job's steps from the
assignment to the sign-off, the parts it asks for, and the SLA clocks."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from ..money import Money
from .common import Category, DiagnosisCause, PartLine, Priority, Schema, SlaStage

SOURCE = "dispatch"

EscalationLevel = Literal["supervisor", "general_manager"]


# --------------------------------------------------------------------------------------
# The job's evidence, referenced from the events (the bytes stay with dispatch:
# GET /api/v1/jobs/{ticket_no}/evidence/{sha256}, for keys of the job's branch)
# --------------------------------------------------------------------------------------
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$",
                              description="SHA-256 of the bytes (hex): the id")]
ImageType = Literal["image/jpeg", "image/png", "image/webp"]


class PhotoRef(Schema):
    sha256: Sha256
    content_type: ImageType
    size: int = Field(ge=1, description="bytes")


class SignatureRef(Schema):
    sha256: Sha256
    content_type: ImageType
    signed_by: str = Field(min_length=1, max_length=100, description="the signer's name")


# --------------------------------------------------------------------------------------
# The job's steps
# --------------------------------------------------------------------------------------
class EngineerAssignedV1(Schema):
    ticket_no: str
    engineer_id: str
    engineer_name: str
    reason: str
    previous_engineer_id: str | None = None   # a reassignment: who had it before
    manual: bool = False                      # chosen by a dispatcher, not ranked


class AssignmentFailedV1(Schema):
    ticket_no: str
    reason: str
    escalated_to: str
    offered: list[str] = Field(default_factory=list,
                               description="free engineers of neighbouring branches (ids)")


class JobAcceptedV1(Schema):
    ticket_no: str
    engineer_id: str
    accepted_at: datetime


class JobDeclinedV1(Schema):
    ticket_no: str
    engineer_id: str
    reason: str
    declined_at: datetime
    timed_out: bool = Field(default=False, description="not accepted in time (no answer)")


class AppointmentSetV1(Schema):
    ticket_no: str
    engineer_id: str | None = None
    window_from: datetime
    window_to: datetime
    agreed_at: datetime = Field(description="when the time was agreed with the customer: the "
                                            "first human contact if none came before (response)")
    note: str | None = Field(default=None, max_length=2000)


class EngineerEnRouteV1(Schema):
    ticket_no: str
    engineer_id: str | None = None
    departed_at: datetime
    eta: datetime | None = None


class EngineerCheckedInV1(Schema):
    ticket_no: str
    engineer_id: str
    checked_in_at: datetime


class JobDiagnosedV1(Schema):
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
    photos: list[PhotoRef] = Field(default_factory=list,
                                   description="the job's photos uploaded until the diagnosis "
                                               "(the survey and diagnosis report's pictures)")


class QuoteIssuedV1(Schema):
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


class QuoteDecidedV1(Schema):
    ticket_no: str
    approved: bool = Field(description="the customer approved the quote: work may start")
    total: Money = Field(ge=0)
    decided_at: datetime
    recorded_by: str


class ProgressReportedV1(Schema):
    ticket_no: str
    engineer_id: str | None = None
    reported_at: datetime
    progress: str
    percent: int | None = Field(default=None, ge=0, le=100)


class ProgressReportMissingV1(Schema):
    ticket_no: str
    engineer_id: str | None = None
    last_report_at: datetime
    reminded_at: datetime


class JobCompletedV1(Schema):
    ticket_no: str
    engineer_id: str
    completed_at: datetime
    summary: str
    parts_used: list[PartLine] = Field(default_factory=list)


class JobReworkV1(Schema):
    ticket_no: str
    engineer_id: str | None = None
    reason: str
    rejected_at: datetime
    rework_count: int = Field(ge=1)


class JobClosedV1(Schema):
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
    signed_by: str | None = Field(default=None, max_length=100,
                                  description="who signed the work off for the customer")
    photos: list[PhotoRef] = Field(default_factory=list, description="all the job's photos")
    signature: SignatureRef | None = Field(default=None,
                                           description="the customer's signature (客户签字)")


# --------------------------------------------------------------------------------------
# Parts the job needs (the parts service answers on parts.events)
# --------------------------------------------------------------------------------------
class PartsRequestedLine(Schema):
    sku: str = Field(min_length=1, max_length=40)
    quantity: int = Field(ge=1, le=10000)


class PartsRequestedV1(Schema):
    ticket_no: str
    requested_by: str = Field(min_length=1, description="the engineer (id) or dispatcher asking")
    in_warranty: bool
    lines: list[PartsRequestedLine] = Field(min_length=1, max_length=100)
    note: str | None = Field(default=None, max_length=2000)


# --------------------------------------------------------------------------------------
# The SLA clocks: every event names the ticket's stage, its priority and its deadline
# --------------------------------------------------------------------------------------
class _SlaStageEvent(Schema):
    ticket_no: str
    stage: SlaStage
    priority: Priority
    deadline: datetime


class SlaStageCompletedV1(_SlaStageEvent):
    completed_at: datetime
    elapsed_seconds: float = Field(ge=0, description="clock time used (working hours only on "
                                                     "a working-hours clock; pauses excluded)")
    target_seconds: float = Field(gt=0)
    met: bool


class SlaAtRiskV1(_SlaStageEvent):
    at_risk_at: datetime = Field(description="when the at-risk share of the target was used")


class SlaBreachedV1(_SlaStageEvent):
    breached_at: datetime
    escalation_level: EscalationLevel
    escalated_to: str | None = Field(default=None, description="the supervisor's id, or the "
                                                               "general manager's")


# type, version, schema, summary (docs/events.md); in the order they were first registered
SPECS = (
    ("engineer_assigned", 1, EngineerAssignedV1,
     "An engineer was chosen for the ticket; `reason` explains the choice."),
    ("assignment_failed", 1, AssignmentFailedV1,
     "Nobody in the branch could take the ticket; it was escalated."),
    ("job_accepted", 1, JobAcceptedV1, "The assigned engineer accepted the job."),
    ("engineer_checked_in", 1, EngineerCheckedInV1, "The engineer checked in on site."),
    ("job_completed", 1, JobCompletedV1,
     "The engineer completed the work; `parts_used` lists the parts fitted."),
    ("parts_requested", 1, PartsRequestedV1,
     "An engineer needs parts for a ticket (the parts request, 售后维护申请单); parts "
     "approves it (or waits for the branch manager) and reserves, transfers or backorders."),
    ("job_diagnosed", 1, JobDiagnosedV1,
     "The engineer diagnosed the fault: cause, responsibility, and whether the warranty is "
     "void (with the reason) and the work chargeable."),
    ("job_closed", 1, JobClosedV1,
     "The customer signed the work off and the job is closed; `first_time_fix` and "
     "`rework_count` for the quality statistics."),
    ("sla_stage_completed", 1, SlaStageCompletedV1,
     "An SLA stage (response, dispatch, arrival, resolution) completed; `met` when before "
     "its deadline."),
    ("sla_at_risk", 1, SlaAtRiskV1,
     "An open SLA stage used its at-risk share of the target (default 80 %)."),
    ("sla_breached", 1, SlaBreachedV1,
     "An SLA stage's deadline passed before it completed; escalated to the supervisor (B, C) "
     "or the general manager (A)."),
    ("appointment_set", 1, AppointmentSetV1,
     "The engineer agreed a visit window with the customer (counts as first human contact "
     "for the response stage)."),
    ("engineer_en_route", 1, EngineerEnRouteV1, "The engineer set out for the site."),
    ("quote_issued", 1, QuoteIssuedV1,
     "Paid work (out of warranty or void): a quote of materials, labour and travel for the "
     "customer to approve before work starts."),
    ("quote_decided", 1, QuoteDecidedV1,
     "The customer approved (work starts) or rejected the quote; the decision is recorded."),
    ("job_declined", 1, JobDeclinedV1,
     "The assigned engineer declined the job, or did not accept it in time; it is reassigned."),
    ("job_rework", 1, JobReworkV1,
     "The customer rejected the sign-off: the work reopens (the resolution clock keeps running)."),
    ("progress_reported", 1, ProgressReportedV1,
     "The engineer's daily progress report while the job is open on site."),
    ("progress_report_missing", 1, ProgressReportMissingV1,
     "A job on site went a day without a progress report: a reminder to engineer and dispatcher."),
)
