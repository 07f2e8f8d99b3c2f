"""Inbound: the phone centers' repair request (exchange ``phone_center.events``, routing key
``repair_requested``). Not enveloped and not in the registry: it is the integrators' own format.
Feedback also publishes it, as a phone center, when a return visit finds a problem."""
from __future__ import annotations

from datetime import datetime

from pydantic import Field, field_validator

from .common import Asset, Channel, Customer, Fault, Priority, Schema, Site


class RepairRequested(Schema):
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
