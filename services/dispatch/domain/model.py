"""The job and its state machine: from assigned (or escalated) through acceptance, the visit,
diagnosis, quote and completion to the customer's sign-off, with reassignment and
cancellation. The roster and choosing an engineer are in ``roster.py``, the diagnosis and the
quote in ``quotes.py``, the job's parts requests in ``parts_requests.py``.

Pure Python: no framework, database or broker imports.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from aftersales.money import money

from .parts_requests import PartsRequests
from .quotes import FROM_PARTS, Diagnosis, NoPartsPrices, Quote
from .roster import Assignment, Needs

# -- job states -----------------------------------------------------------------------------
(ASSIGNED, ESCALATED, ACCEPTED, SCHEDULED, EN_ROUTE, ON_SITE, DIAGNOSED, QUOTED, IN_PROGRESS,
 COMPLETED, REWORK, CLOSED, CANCELLED) = (
    "assigned", "escalated", "accepted", "scheduled", "en_route", "on_site", "diagnosed",
    "quoted", "in_progress", "completed", "rework", "closed", "cancelled")
STATES = (ASSIGNED, ESCALATED, ACCEPTED, SCHEDULED, EN_ROUTE, ON_SITE, DIAGNOSED, QUOTED,
          IN_PROGRESS, COMPLETED, REWORK, CLOSED, CANCELLED)
OPEN_STATES = tuple(s for s in STATES if s not in (CLOSED, CANCELLED))
# count against the engineer's capacity (a completed job waits for the customer, not for him)
BUSY_STATES = (ASSIGNED, ACCEPTED, SCHEDULED, EN_ROUTE, ON_SITE, DIAGNOSED, QUOTED, IN_PROGRESS,
               REWORK)
ON_SITE_STATES = (ON_SITE, DIAGNOSED, QUOTED, IN_PROGRESS)   # daily progress reports due
REASSIGNABLE = (ASSIGNED, ESCALATED, ACCEPTED, SCHEDULED, EN_ROUTE, REWORK)


# -- the job and its state machine ----------------------------------------------------------
class InvalidTransition(Exception):
    """The job is not in the state this step needs."""


@dataclass(frozen=True)
class Step:
    action: str
    label: str                    # for messages
    from_states: tuple[str, ...]
    to_state: str


STEPS = {
    "accept": Step("accept", "accept", (ASSIGNED,), ACCEPTED),
    "decline": Step("decline", "decline", (ASSIGNED,), ASSIGNED),
    "schedule": Step("schedule", "agree an appointment for", (ACCEPTED, SCHEDULED, REWORK), SCHEDULED),
    "depart": Step("depart", "set out for", (ACCEPTED, SCHEDULED, REWORK), EN_ROUTE),
    "check_in": Step("check_in", "check in on", (ACCEPTED, SCHEDULED, EN_ROUTE, REWORK), ON_SITE),
    "diagnose": Step("diagnose", "diagnose", (ON_SITE, DIAGNOSED), DIAGNOSED),
    "quote": Step("quote", "quote for", (DIAGNOSED, QUOTED), QUOTED),
    "decide_quote": Step("decide_quote", "record the quote decision of", (QUOTED,), IN_PROGRESS),
    "complete": Step("complete", "complete", (ON_SITE, DIAGNOSED, IN_PROGRESS), COMPLETED),
    "sign_off": Step("sign_off", "sign off", (COMPLETED,), CLOSED),
    "report": Step("report", "report progress on", ON_SITE_STATES, ON_SITE),
    "reassign": Step("reassign", "reassign", REASSIGNABLE, ASSIGNED),
    "cancel": Step("cancel", "cancel", OPEN_STATES, CANCELLED),
}


@dataclass
class Job(PartsRequests):
    ticket_no: str
    branch: str
    priority: str
    category: str
    received_at: datetime
    status: str
    product_line: str | None = None
    engineer_id: str | None = None
    engineer_name: str | None = None
    escalated_to: str | None = None
    created_at: datetime | None = None
    assigned_at: datetime | None = None
    accepted_at: datetime | None = None
    checked_in_at: datetime | None = None
    completed_at: datetime | None = None
    summary: str | None = None
    parts_used: list[dict] = field(default_factory=list)
    in_warranty: bool | None = None      # None: the asset is unknown to the registry
    zone_hint: str | None = None
    appointment_from: datetime | None = None
    appointment_to: datetime | None = None
    en_route_at: datetime | None = None
    diagnosis: dict | None = None
    quote: dict | None = None
    signed_off_at: datetime | None = None
    closed_at: datetime | None = None
    cancelled_at: datetime | None = None
    visits: int = 0
    rework_count: int = 0
    declined_by: list[str] = field(default_factory=list)
    last_report_at: datetime | None = None
    report_reminded_at: datetime | None = None
    parts_requests: list[dict] = field(default_factory=list)   # see parts_requests.py
    signed_by: str | None = None          # the customer's signatory at the last sign-off

    @classmethod
    def open(cls, ticket_no: str, branch: str, priority: str, needs: Needs,
             received_at: datetime, assignment: Assignment, at: datetime,
             in_warranty: bool | None = None, zone_hint: str | None = None) -> "Job":
        eng = assignment.engineer
        return cls(ticket_no=ticket_no, branch=branch, priority=priority,
                   category=needs.category, product_line=needs.product_line,
                   received_at=received_at, status=ASSIGNED if eng else ESCALATED,
                   engineer_id=eng.engineer_id if eng else None,
                   engineer_name=eng.name if eng else None,
                   escalated_to=assignment.escalated_to, created_at=at,
                   assigned_at=at if eng else None, in_warranty=in_warranty,
                   zone_hint=zone_hint)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    @property
    def needs(self) -> Needs:
        return Needs(self.category, self.product_line)

    @property
    def chargeable(self) -> bool:
        """Paid work: out of warranty (expired), or the diagnosis found the warranty void. An
        asset unknown to the registry is treated as covered until the diagnosis says otherwise."""
        if self.diagnosis and self.diagnosis.get("warranty_void"):
            return True
        return self.in_warranty is False

    @property
    def quote_approved(self) -> bool:
        return bool(self.quote and self.quote.get("approved"))

    def _check(self, action: str) -> Step:
        step = STEPS[action]
        if self.status not in step.from_states:
            allowed = "' or '".join(step.from_states)
            raise InvalidTransition(
                f"cannot {step.label} job {self.ticket_no}: it is {self.status!r}; "
                f"only a job that is '{allowed}' can")
        return step

    def _move(self, action: str) -> None:
        self.status = self._check(action).to_state

    # the engineer's steps
    def accept(self, at: datetime) -> None:
        self._move("accept")
        self.accepted_at = at

    def decline(self, engineer_id: str) -> None:
        self._check("decline")
        if engineer_id not in self.declined_by:
            self.declined_by.append(engineer_id)

    def schedule(self, start: datetime, end: datetime) -> None:
        if end <= start:
            raise ValueError("the appointment window must end after it starts")
        self._move("schedule")
        self.appointment_from, self.appointment_to = start, end

    def depart(self, at: datetime) -> None:
        self._move("depart")
        self.en_route_at = at

    def check_in(self, at: datetime) -> bool:
        """True on the first visit (the arrival stage)."""
        self._move("check_in")
        first = self.checked_in_at is None
        if first:
            self.checked_in_at = at
        self.visits += 1
        self.last_report_at = at       # the daily report clock starts on site
        self.report_reminded_at = None
        return first

    def diagnose(self, d: Diagnosis) -> None:
        self._move("diagnose")
        self.diagnosis = {"cause": d.cause, "responsibility": d.responsibility,
                          "warranty_void": d.warranty_void, "void_reason": d.void_reason,
                          "findings": d.findings}
        self.quote = None

    def issue_quote(self, q: Quote, at: datetime) -> None:
        self._check("quote")
        if not self.chargeable:
            raise InvalidTransition(f"job {self.ticket_no} is free (in warranty): no quote")
        self.status = QUOTED
        self.quote = {**q.as_dict(), "issued_at": at.isoformat(), "approved": None}

    def quote_from_parts(self, labour, travel, note: str | None = None) -> Quote:
        """A quote whose materials are the parts service's prices of the job's approved parts
        requests (their ``chargeable_total``). InvalidTransition when the job cannot be quoted
        now; NoPartsPrices when no request is approved."""
        self._check("quote")
        if not self.chargeable:
            raise InvalidTransition(f"job {self.ticket_no} is free (in warranty): no quote")
        ids = self.approved_parts_request_ids
        if not ids:
            raise NoPartsPrices(f"is required: job {self.ticket_no} has no approved parts "
                                f"request to price the materials from")
        return Quote(self.parts_chargeable_total, money(labour), money(travel), note,
                     FROM_PARTS, tuple(ids))

    def decide_quote(self, approved: bool, at: datetime, by: str) -> None:
        self._check("decide_quote")
        self.quote = {**(self.quote or {}), "approved": approved, "decided_at": at.isoformat(),
                      "decided_by": by}
        self.status = IN_PROGRESS if approved else DIAGNOSED

    def complete(self, at: datetime, summary: str, parts_used: list[dict]) -> None:
        self._check("complete")
        if self.chargeable and not self.quote_approved:
            raise InvalidTransition(
                f"cannot complete job {self.ticket_no}: it is paid work and the customer has "
                f"not approved a quote; work starts only after the approval")
        self.status = COMPLETED
        self.completed_at, self.summary, self.parts_used = at, summary, list(parts_used)

    def sign_off(self, accepted: bool, at: datetime, signed_by: str | None = None) -> None:
        """The customer's sign-off (验收): accepted closes the job, rejected sends it back to
        rework (the engineer comes again; the resolution clock keeps running). ``signed_by``:
        who signed for the customer (kept, the last one)."""
        self._check("sign_off")
        self.signed_by = signed_by or self.signed_by
        if accepted:
            self.status, self.signed_off_at, self.closed_at = CLOSED, at, at
        else:
            self.status = REWORK
            self.rework_count += 1

    def report(self, at: datetime) -> None:
        self._check("report")
        self.last_report_at, self.report_reminded_at = at, None

    # the dispatcher's
    def reassign(self, a: Assignment, at: datetime) -> None:
        self._check("reassign")
        eng = a.engineer
        self.status = ASSIGNED if eng else ESCALATED
        self.engineer_id = eng.engineer_id if eng else None
        self.engineer_name = eng.name if eng else None
        self.escalated_to = a.escalated_to
        self.assigned_at = at if eng else None
        self.accepted_at = None
        self.appointment_from = self.appointment_to = self.en_route_at = None

    def cancel(self, at: datetime) -> None:
        self._move("cancel")
        self.cancelled_at = at

    def first_time_fix(self) -> bool:
        return self.rework_count == 0 and self.visits <= 1
