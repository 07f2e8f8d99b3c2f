"""What people and the clock ask dispatch to do: one frozen dataclass per command, each handled
by the function :mod:`services.dispatch.bootstrap`'s ``COMMANDS`` maps it to.

HTTP commands carry the caller's :class:`aftersales.auth.Principal` and the request body as
sent (a dict): the handler checks the role first and then validates the body with the class
its table names (``jobs.STEPS``, ``bodies.py``), so a caller without the role gets 403 before
any 422, as before. ``now`` (None: the current time) lets tests fix the clock."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from aftersales.auth import Principal


# -- the engineer's steps on a job (jobs.STEPS) ------------------------------------------------
@dataclass(frozen=True)
class JobStep:
    principal: Principal
    ticket_no: str
    body: dict = field(default_factory=dict)


class AcceptJob(JobStep):
    """POST /jobs/{ticket_no}/accept"""


class DeclineJob(JobStep):
    """POST /jobs/{ticket_no}/decline: the job goes to the next best-ranked engineer."""


class SetAppointment(JobStep):
    """POST /jobs/{ticket_no}/appointment"""


class SetOut(JobStep):
    """POST /jobs/{ticket_no}/en-route"""


class CheckIn(JobStep):
    """POST /jobs/{ticket_no}/check-in"""


class Diagnose(JobStep):
    """POST /jobs/{ticket_no}/diagnosis"""


class IssueQuote(JobStep):
    """POST /jobs/{ticket_no}/quote"""


class DecideQuote(JobStep):
    """POST /jobs/{ticket_no}/quote/decision (the customer's, recorded by staff)"""


class CompleteJob(JobStep):
    """POST /jobs/{ticket_no}/complete"""


class SignOff(JobStep):
    """POST /jobs/{ticket_no}/sign-off (the customer's, recorded by staff)"""


class ReportProgress(JobStep):
    """POST /jobs/{ticket_no}/reports"""


class RequestParts(JobStep):
    """POST /jobs/{ticket_no}/parts-requests"""


# -- the job's evidence (service_layer/evidence.py) ---------------------------------------------
@dataclass(frozen=True)
class UploadPhoto:
    """POST /jobs/{ticket_no}/photos: the image's bytes as sent, ``meta`` its caption and
    ``taken_at`` (text, validated by ``bodies.PhotoMeta``)."""
    principal: Principal
    ticket_no: str
    data: bytes
    meta: dict = field(default_factory=dict)


# -- the dispatcher's ---------------------------------------------------------------------------
@dataclass(frozen=True)
class AssignJob:
    """POST /jobs/{ticket_no}/assign: manual assignment or reassignment, with a reason."""
    principal: Principal
    ticket_no: str
    body: dict = field(default_factory=dict)


@dataclass(frozen=True)
class WaitOnCustomer:
    """POST /jobs/{ticket_no}/waiting-on-customer: the SLA clocks pause."""
    principal: Principal
    ticket_no: str
    body: dict = field(default_factory=dict)
    now: datetime | None = None


@dataclass(frozen=True)
class Resume:
    """POST /jobs/{ticket_no}/resume: the SLA clocks run again."""
    principal: Principal
    ticket_no: str
    now: datetime | None = None


# -- the roster ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class PutEngineer:
    """PUT /engineers/{engineer_id}: add or replace a roster entry."""
    principal: Principal
    engineer_id: str
    body: dict


@dataclass(frozen=True)
class AddLeave:
    """POST /engineers/{engineer_id}/leave"""
    principal: Principal
    engineer_id: str
    body: dict


# -- the SLA timer's duties ---------------------------------------------------------------------
@dataclass(frozen=True)
class RaiseDueSla:
    """Raise due at-risk and breaches, at most ``limit`` (the timer drains a backlog in
    batches); the handler returns the number raised."""
    now: datetime | None = None
    limit: int = 200


@dataclass(frozen=True)
class TimeOutAcceptances:
    """Jobs not accepted within ``accept_timeout_minutes``: declined on the engineer's behalf
    and reassigned."""
    now: datetime | None = None


@dataclass(frozen=True)
class RemindMissingReports:
    """Jobs on site without a progress report for ``report_interval_hours``: a reminder, once
    per interval."""
    now: datetime | None = None


@dataclass(frozen=True)
class ForgetEarlyEvents:
    """Early events of tickets that never got a job, older than the days they are kept."""
    now: datetime | None = None
