"""The events intake publishes (exchange ``intake.events``): tickets opened, changed and ended,
and requests refused."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from .common import (Asset, Category, Channel, Customer, Fault, Priority, Schema, Site,
                     WarrantyDecision)

SOURCE = "intake"


class FieldError(Schema):
    field: str
    message: str


class TicketOpenedV1(Schema):
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


class CustomerContactedV1(Schema):
    ticket_no: str
    contacted_at: datetime
    by: str = Field(min_length=1, description="who contacted the customer (the API key's subject)")
    channel: Literal["phone", "sms", "email", "wechat", "onsite"] = "phone"
    note: str | None = None


class TicketReclassifiedV1(Schema):
    ticket_no: str
    priority: Priority
    category: Category
    previous_priority: Priority
    previous_category: Category
    needs_visit: bool
    reason: str = Field(min_length=1)
    by: str


class TicketResolvedV1(Schema):
    ticket_no: str
    resolved_at: datetime
    resolution: str = Field(min_length=1)
    by: str


class TicketCancelledV1(Schema):
    ticket_no: str
    cancelled_at: datetime
    reason: str = Field(min_length=1)
    by: str


class TicketLinkedV1(Schema):
    ticket_no: str            # the open ticket the new request was linked to
    linked_ticket_no: str     # the new request's ticket
    serial_no: str


class RequestRejectedV1(Schema):
    request_id: str | None
    source: str | None
    errors: list[FieldError]


# type, version, schema, summary (docs/events.md)
SPECS = (
    ("ticket_opened", 1, TicketOpenedV1,
     "A request was accepted and a ticket numbered. Also re-sent with `duplicate: true` and "
     "the same `ticket_no` when the same (source, request_id) arrives again."),
    ("customer_contacted", 1, CustomerContactedV1,
     "First (or further) human contact with the customer, recorded by an agent: the response stage."),
    ("ticket_reclassified", 1, TicketReclassifiedV1,
     "An agent overrode priority and/or category, with a reason; the previous values are kept."),
    ("ticket_resolved", 1, TicketResolvedV1,
     "Resolved without a visit (e.g. a consultation answered remotely)."),
    ("ticket_cancelled", 1, TicketCancelledV1,
     "The customer cancelled before the work was done; the reason is recorded."),
    ("ticket_linked", 1, TicketLinkedV1,
     "A new request for the same asset serial as an open ticket was linked to it (no second "
     "dispatch); an agent may split it off, which re-sends `ticket_opened` with `split_from`."),
    ("request_rejected", 1, RequestRejectedV1,
     "A request was refused: a field failed validation or is beyond the limits, or its "
     "`request_id` belongs to another branch's request; every offending field is named. "
     "The original message is parked."),
)
