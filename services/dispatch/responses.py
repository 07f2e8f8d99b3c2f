"""The answers of dispatch's HTTP routes as pydantic models, for the OpenAPI document: exactly
what the views of ``service_layer/views.py`` and ``service_layer/roster.py`` return (every
field, nullable where it can be None). ``extra="forbid"``: a field a view adds without its
model here is caught by the Schemathesis run. Instants are ISO-8601 text with their offset,
amounts of money strings with two places (``"1200.50"``, CNY)."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from aftersales.contracts.events import DiagnosisCause, Priority, SlaStage

JobStatus = Literal["assigned", "escalated", "accepted", "scheduled", "en_route", "on_site",
                    "diagnosed", "quoted", "in_progress", "completed", "rework", "closed",
                    "cancelled"]
ClockStatus = Literal["open", "met", "breached", "stopped"]
ClockState = Literal["running", "at_risk", "overdue", "paused", "met", "breached", "stopped"]
PartsStatus = Literal["requested", "approved", "rejected", "reserved", "in_transit",
                      "backordered", "shipped", "delivered"]
Money = str          # two places, e.g. "1200.50"
Span = Annotated[list[str], Field(min_length=2, max_length=2,
                                  description='["08:30", "17:30"]: from, to (HH:MM)')]
Period = Annotated[list[datetime], Field(min_length=2, max_length=2,
                                         description="[from, to): the first instant of leave "
                                                     "and the first one after it")]


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- the SLA clocks -------------------------------------------------------------------------
class ClockView(Answer):
    """One stage's SLA clock."""
    stage: SlaStage
    priority: Priority
    status: ClockStatus
    state: ClockState = Field(description="for the board: met | breached | stopped, or for an "
                                          "open clock running | at_risk | overdue | paused")
    target_seconds: float
    working_hours: bool = Field(description="measured in the branch's working hours")
    due_at: datetime | None = Field(description="None while an open-ended pause stops it")
    at_risk_at: datetime | None
    at_risk_raised_at: datetime | None
    breached_at: datetime | None
    escalation_level: Literal["supervisor", "general_manager"] | None
    escalated_to: str | None
    completed_at: datetime | None
    elapsed_seconds: float | None


class PauseView(Answer):
    started_at: datetime
    ended_at: datetime | None


class DeadlineChange(Answer):
    """One (re)computation of a stage's deadline, and why."""
    stage: SlaStage
    priority: Priority
    target_seconds: float
    due_at: datetime | None
    at_risk_at: datetime | None
    reason: str
    changed_at: datetime


class SlaView(Answer):
    """A ticket's SLA clocks (response, dispatch, arrival, resolution), its pauses while it
    waited on the customer and the history of its deadlines."""
    ticket_no: str
    clocks: list[ClockView]
    paused: bool
    pauses: list[PauseView]
    history: list[DeadlineChange]


# -- the job --------------------------------------------------------------------------------
class Appointment(Answer):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_: datetime = Field(alias="from")
    to: datetime


class DiagnosisView(Answer):
    cause: DiagnosisCause
    responsibility: str
    warranty_void: bool
    void_reason: str | None
    findings: str | None


class QuoteView(Answer):
    """The quote of paid work; ``approved`` is None until the customer decided."""
    materials: Money
    labour: Money
    travel: Money
    total: Money
    currency: Literal["CNY"]
    note: str | None
    materials_source: Literal["entered", "parts_requests"]
    parts_request_ids: list[str]
    issued_at: datetime
    approved: bool | None
    decided_at: datetime | None = Field(default=None, description="once decided")
    decided_by: str | None = Field(default=None, description="once decided: who recorded it")


class PartUsed(Answer):
    sku: str
    quantity: int = Field(ge=1)
    serial_no: str | None = None


class PricedLine(Answer):
    sku: str
    name: str | None
    unit: str | None
    quantity: int
    unit_price: Money
    line_total: Money


class OnTheWay(Answer):
    """A transfer from another warehouse or a backorder of the request."""
    expected_at: datetime | None
    arrived: bool


class PartsRequestView(Answer):
    """A parts request of the job as the parts service reported it."""
    request_id: str
    status: PartsStatus
    in_warranty: bool | None
    approved_at: datetime | None
    approved_by: str | None
    auto_approved: bool | None
    lines: list[PricedLine]
    total: Money | None
    chargeable_total: Money | None
    rejected_at: datetime | None
    reason: str | None
    reserved: bool
    complete: bool
    transfers: dict[str, OnTheWay]
    backorders: dict[str, OnTheWay]
    expected_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None


class RankedEngineer(Answer):
    """An engineer as the assignment ranked them (``offered``: a free engineer of a
    neighbouring branch offered when nobody of the branch could take the job)."""
    engineer_id: str
    name: str
    matched: list[str]
    open_jobs: int
    max_jobs: int
    has_capacity: bool
    level: int = 0
    on_shift: bool = True
    on_leave: bool = False
    zone_match: bool = False
    branch: str | None = None
    offered: bool = False


class AssignmentView(Answer):
    """One assignment decision: to an engineer, or escalated, with the reason and ranking."""
    engineer_id: str | None
    escalated_to: str | None
    reason: str
    ranking: list[RankedEngineer]
    decided_at: datetime


class ReportView(Answer):
    engineer_id: str | None
    reported_at: datetime
    progress: str
    percent: int | None = Field(ge=0, le=100)


class JobSummary(Answer):
    """A job as the list shows it."""
    ticket_no: str
    branch: str
    status: JobStatus
    priority: Priority
    category: str
    product_line: str | None
    received_at: datetime
    engineer_id: str | None
    engineer_name: str | None
    escalated_to: str | None = Field(description="the supervisor (or HQ) a job nobody could "
                                                 "take was escalated to")
    assigned_at: datetime | None
    accepted_at: datetime | None
    checked_in_at: datetime | None
    completed_at: datetime | None
    summary: str | None
    parts_used: list[PartUsed]
    in_warranty: bool | None = Field(description="None: the asset is unknown to the registry")
    chargeable: bool
    appointment: Appointment | None
    en_route_at: datetime | None
    diagnosis: DiagnosisView | None
    quote: QuoteView | None
    signed_off_at: datetime | None
    signed_by: str | None = Field(description="who signed the work off for the customer")
    closed_at: datetime | None
    cancelled_at: datetime | None
    visits: int
    rework_count: int
    declined_by: list[str]
    last_report_at: datetime | None
    parts_requests: list[PartsRequestView]
    parts_chargeable_total: Money
    parts_expected_at: datetime | None


class EvidenceView(Answer):
    """One image of the job (its bytes: GET /api/v1/jobs/{ticket_no}/evidence/{sha256})."""
    kind: Literal["photo", "signature"]
    sha256: str = Field(description="SHA-256 of the bytes (hex): the image's id")
    content_type: Literal["image/jpeg", "image/png", "image/webp"]
    size: int = Field(description="bytes")
    uploaded_by: str
    uploaded_at: datetime
    taken_at: datetime | None
    caption: str | None
    signed_by: str | None = Field(description="a signature: the signer's name")


class EvidenceList(Answer):
    ticket_no: str
    evidence: list[EvidenceView]
    count: int


class JobView(JobSummary):
    """The job after a step, with its assignment history."""
    assignments: list[AssignmentView]


class JobDetail(JobView):
    """The job with its assignment history, SLA clocks, progress reports and evidence."""
    sla: SlaView
    reports: list[ReportView]
    evidence: list[EvidenceView]


class JobList(Answer):
    jobs: list[JobSummary]
    count: int


# -- the board ------------------------------------------------------------------------------
class BoardJob(Answer):
    ticket_no: str
    branch: str
    status: JobStatus
    priority: Priority
    category: str
    engineer_id: str | None
    escalated_to: str | None
    parts_expected_at: datetime | None
    next_deadline: ClockView | None = Field(description="its most urgent open clock")


class Attention(Answer):
    """A clock at risk or overdue."""
    ticket_no: str
    stage: SlaStage
    priority: Priority
    state: Literal["at_risk", "overdue"]
    due_at: datetime | None
    engineer_id: str | None


class EngineerWhere(Answer):
    """Who is where: an engineer's open jobs and the site of the one on site."""
    engineer_id: str
    name: str
    branch: str
    active: bool
    on_leave: bool
    on_shift: bool
    open_jobs: int
    max_jobs: int
    on_site_at: str | None = Field(description="the ticket the engineer is on site for")
    en_route_to: str | None = Field(description="the ticket the engineer is on the way to")


class Board(Answer):
    """The dispatchers' board."""
    branch: str = Field(description="the branch shown, HQ for every branch")
    at: datetime
    jobs: list[BoardJob]
    attention: list[Attention]
    engineers: list[EngineerWhere]


# -- the roster -----------------------------------------------------------------------------
class RosterEntry(Answer):
    """A person on the roster. ``shift``: working hours per day (``{"mon": [["08:30",
    "17:30"]]}``), None when on call round the clock; ``leave``: [from, to) instants."""
    engineer_id: str
    name: str
    branch: str
    role: Literal["engineer", "supervisor"]
    skills: list[str]
    levels: dict[str, int] = Field(description="skill -> level 1..5 (default 1)")
    zone: str | None
    active: bool
    max_jobs: int
    shift: dict[str, list[Span]] | None
    leave: list[Period]


class RosterListEntry(RosterEntry):
    on_shift: bool
    on_leave: bool
    open_jobs: int | None = Field(description="with a branch: the person's open jobs; "
                                              "None for a list of every branch")


class Roster(Answer):
    engineers: list[RosterListEntry]
    count: int
