"""What intake's HTTP routes answer (pydantic), for the OpenAPI document: every field the views
and the handlers return, nullable where it can be None. ``extra="forbid"`` so that a field the
code answers and the model does not describe is caught (tests, Schemathesis); the one open
object is a timeline entry, which carries its event's data."""
from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from aftersales.contracts.events import Category, Channel, Priority

from .domain import model

Status = Literal[model.OPEN_STATUSES + model.FINAL_STATUSES]   # type: ignore[valid-type]


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- the request as received ----------------------------------------------------------------------
class CustomerOut(_Answer):
    name: str
    contact_name: str
    phone: str
    email: str | None


class SiteOut(_Answer):
    address: str
    project: str | None
    contract_no: str | None


class AssetOut(_Answer):
    serial_no: str | None
    model: str | None
    component: str | None


class FaultOut(_Answer):
    description: str
    category: Category | None = Field(description="as the request gave it (the ticket's "
                                                  "`category` is the one decided)")


class WarrantyOut(_Answer):
    status: Literal["in_warranty", "expired", "unknown_asset"]
    ends_on: date | None
    component_category: str | None


# -- tickets ---------------------------------------------------------------------------------------
class TicketSummary(_Answer):
    """A ticket as the list shows it."""
    ticket_no: str = Field(description="branch, local day of receipt, sequence: SH-20261122-0007")
    branch: str
    status: Status = Field(description="the overall state (the desk's decision and the job's "
                                       "latest state)")
    priority: Priority
    category: Category
    classified_by: str = Field(description="`given`, or the rules that decided "
                                           "(`priority:A-safety-outage,...`), or `agent:<who>`")
    channel: Channel
    source: str
    request_id: str
    received_at: datetime
    linked_to: str | None = Field(description="the open ticket of the same asset this request "
                                              "is linked to")
    first_contact_at: datetime | None
    customer: CustomerOut
    site: SiteOut
    asset: AssetOut
    fault: FaultOut
    warranty: WarrantyOut


class TimelineEntry(BaseModel):
    """One event about the ticket: the envelope's type, source, time and id, and (as further
    fields) what the timeline keeps of its data, which depends on the type; a data field named
    like one of the four is kept as ``data_<name>`` (``complaint_registered``: ``data_source``)."""
    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "type": "customer_contacted", "source": "intake",
        "occurred_at": "2026-11-22T01:45:00+00:00",
        "event_id": "5b0c8f8e-3a4f-4f7e-9a51-2f0d1c9b7a11", "contacted_at":
        "2026-11-22T01:45:00+00:00", "by": "agent-sh-01", "channel": "phone",
        "note": "已电话联系张伟先生，约明早九点上门"}]})

    type: str
    source: str = Field(description="the service that published the event")
    occurred_at: datetime
    event_id: str


class TicketView(TicketSummary):
    """A ticket and its timeline (every service's events about it, in the order they
    occurred)."""
    timeline: list[TimelineEntry]


class TicketList(_Answer):
    tickets: list[TicketSummary]
    total: int = Field(ge=0, description="tickets matching, on every page")
    page: int = Field(ge=1)
    per_page: int = Field(ge=1, le=200)


class TicketAccepted(_Answer):
    """What became of a repair request: a new ticket (201) or, for a repeat of its
    ``(source, request_id)``, the ticket it opened (200)."""
    ticket_no: str
    outcome: Literal["opened", "duplicate"]
    priority: Priority
    linked_to: str | None


# -- the service desk ------------------------------------------------------------------------------
class ContactRecorded(_Answer):
    ticket_no: str
    first_contact: bool = Field(description="the ticket's first contact (it stops the "
                                            "response clock)")
    event_id: UUID = Field(description="the `customer_contacted` event")


class Reclassified(_Answer):
    ticket_no: str
    priority: Priority
    category: Category


class TicketStatus(_Answer):
    ticket_no: str
    status: Status
