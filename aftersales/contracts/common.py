"""What several contracts share: the schema base, the field types that more than one event (or
the phone-center request) carries, and the closed vocabularies with their tuples of values.

Each tuple is derived from its ``Literal`` so the two cannot drift apart. Import these from
:mod:`aftersales.contracts.events`, the one place contracts are imported from.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

Channel = Literal["phone", "email", "web", "wechat", "onsite"]
Category = Literal[
    "emergency_repair", "fault", "maintenance", "consultation",
    "parts", "training", "installation", "complaint",
]
Priority = Literal["A", "B", "C"]
SlaStage = Literal["response", "dispatch", "arrival", "resolution"]
DiagnosisCause = Literal["design", "material", "workmanship", "installation", "misuse",
                         "environment", "force_majeure"]
ComplaintSeverity = Literal["low", "medium", "high"]

CHANNELS: tuple[str, ...] = get_args(Channel)
CATEGORIES: tuple[str, ...] = get_args(Category)
PRIORITIES: tuple[str, ...] = get_args(Priority)
SLA_STAGES: tuple[str, ...] = get_args(SlaStage)
DIAGNOSIS_CAUSES: tuple[str, ...] = get_args(DiagnosisCause)
COMPLAINT_SEVERITIES: tuple[str, ...] = get_args(ComplaintSeverity)

PHONE_RE = re.compile(r"^\+?[0-9][0-9\- ]{5,19}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Schema(BaseModel):
    """The base of every contract: unknown fields are ignored (a new optional field is not a
    new version), text is stripped."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


def nonblank(v: str) -> str:
    if not v or not v.strip():
        raise ValueError("must not be empty")
    return v


# --------------------------------------------------------------------------------------
# The request's parts: the phone-center request carries them, ticket_opened repeats them
# --------------------------------------------------------------------------------------
class Customer(Schema):
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
        if v is not None and not EMAIL_RE.match(v):
            raise ValueError("is not an e-mail address")
        return v


class Site(Schema):
    address: str = Field(min_length=1, max_length=500)
    project: str | None = Field(default=None, max_length=200)
    contract_no: str | None = Field(default=None, max_length=100)


class Asset(Schema):
    serial_no: str | None = Field(default=None, max_length=100)
    model: str | None = Field(default=None, max_length=100)
    component: str | None = Field(default=None, max_length=100)


class Fault(Schema):
    description: str = Field(min_length=1, max_length=5000)
    category: Category | None = None

    _desc = field_validator("description")(nonblank)


# --------------------------------------------------------------------------------------
# Carried between services
# --------------------------------------------------------------------------------------
class WarrantyDecision(Schema):
    status: Literal["in_warranty", "expired", "unknown_asset"]
    ends_on: date | None = None
    component_category: str | None = None


class PartLine(Schema):   # a part fitted on a job (job_completed), out of stock (parts_consumed)
    sku: str = Field(min_length=1)
    quantity: int = Field(ge=1)
    serial_no: str | None = None
