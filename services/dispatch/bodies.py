"""The pydantic bodies of dispatch's HTTP requests (the job's steps, the dispatcher's
assignment). Each step's body class is named in the step table
(:data:`services.dispatch.service_layer.jobs.STEPS`), which validates it after the role check,
as before."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aftersales.contracts.events import DiagnosisCause, PartLine
from aftersales.errors import InvalidInput, pydantic_errors


def validate(schema: type[BaseModel], body: dict):
    """``body`` as ``schema``; InvalidInput naming every bad field."""
    try:
        return schema.model_validate(body)
    except ValidationError as exc:
        raise InvalidInput(pydantic_errors(exc)) from None


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class CompleteBody(Body):
    summary: str = Field(min_length=1, max_length=5000)
    parts_used: list[PartLine] = Field(default_factory=list, max_length=100)


class DeclineBody(Body):
    reason: str = Field(min_length=1, max_length=2000)


class ScheduleBody(Body):
    window_from: datetime
    window_to: datetime
    note: str | None = Field(default=None, max_length=2000)


class DepartBody(Body):
    eta: datetime | None = None


class DiagnoseBody(Body):
    cause: DiagnosisCause
    responsibility: str = Field(min_length=1, max_length=100)
    warranty_void: bool = False
    void_reason: str | None = Field(default=None, max_length=2000)
    findings: str | None = Field(default=None, max_length=5000)


class QuoteBody(Body):
    materials: Decimal | None = Field(
        default=None, ge=0, max_digits=12, decimal_places=2,
        description="omitted: the parts service's chargeable total of the approved requests")
    labour: Decimal = Field(ge=0, max_digits=12, decimal_places=2)
    travel: Decimal = Field(ge=0, max_digits=12, decimal_places=2)
    note: str | None = Field(default=None, max_length=2000)


class QuoteDecisionBody(Body):
    approved: bool


class SignOffBody(Body):
    accepted: bool
    reason: str | None = Field(default=None, max_length=2000)
    signed_by: str | None = Field(default=None, max_length=100,
                                  description="the customer's signatory (not logged)")


class ReportBody(Body):
    progress: str = Field(min_length=1, max_length=5000)
    percent: int | None = Field(default=None, ge=0, le=100)


class PartsBody(Body):
    lines: list[PartLine] = Field(min_length=1, max_length=100)
    note: str | None = Field(default=None, max_length=2000)


class AssignBody(Body):
    engineer_id: str | None = Field(default=None, max_length=40)
    reason: str = Field(min_length=1, max_length=2000)
