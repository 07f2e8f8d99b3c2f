"""The pydantic bodies of feedback's HTTP requests (survey answers and visit plans are read
as JSON objects and checked by the domain's rules, after the survey or plan is found)."""
from __future__ import annotations

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from aftersales.contracts.events import CATEGORIES, COMPLAINT_SEVERITIES

from .domain import visits as rv
from .service_layer.common import DEFAULT_TZ


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ComplaintBody(_Body):
    ticket_no: str = Field(min_length=1, max_length=40)
    branch: str | None = Field(default=None, max_length=20)
    severity: Literal[COMPLAINT_SEVERITIES]
    description: str = Field(min_length=1, max_length=5000)
    owner: str | None = Field(default=None, max_length=100)
    deadline: datetime | None = None

    @field_validator("deadline")
    @classmethod
    def _local(cls, v: datetime | None) -> datetime | None:
        """A deadline without an offset is China's local time."""
        if v is not None and v.tzinfo is None:
            return v.replace(tzinfo=ZoneInfo(DEFAULT_TZ))
        return v


class TextBody(_Body):
    text: str = Field(min_length=1, max_length=5000)


class AssignBody(_Body):
    owner: str = Field(min_length=1, max_length=100)


class ConfirmBody(_Body):
    satisfied: bool
    note: str | None = Field(default=None, max_length=2000)


class CloseBody(_Body):
    note: str = Field(min_length=1, max_length=5000)


class VisitOutcomeBody(_Body):
    outcome: Literal[rv.OUTCOMES]
    notes: str | None = Field(default=None, max_length=5000)
    problem: str | None = Field(default=None, max_length=5000)
    category: Literal[CATEGORIES] | None = None
    priority: Literal["A", "B", "C"] | None = None
