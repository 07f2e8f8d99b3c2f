"""The pydantic bodies of parts' HTTP requests."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .domain.returns import DECISIONS


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LineBody(_Body):
    sku: str = Field(min_length=1, max_length=40)
    quantity: int = Field(ge=1, le=10000)


class RequestBody(_Body):
    ticket_no: str = Field(min_length=1, max_length=40)
    branch: str | None = Field(default=None, max_length=20)
    lines: list[LineBody] = Field(min_length=1, max_length=100)
    note: str | None = Field(default=None, max_length=2000)


class NoteBody(_Body):
    note: str | None = Field(default=None, max_length=2000)


class ReasonBody(_Body):
    reason: str = Field(min_length=1, max_length=2000)


class MovementBody(_Body):
    branch: str | None = Field(default=None, max_length=20)
    kind: Literal["receive", "scrap", "stocktake"]
    sku: str = Field(min_length=1, max_length=40)
    quantity: int | None = Field(default=None, ge=1, le=1_000_000)
    counted: int | None = Field(default=None, ge=0, le=1_000_000)
    note: str | None = Field(default=None, max_length=2000)


class ReorderPointBody(_Body):
    branch: str | None = Field(default=None, max_length=20)
    sku: str = Field(min_length=1, max_length=40)
    reorder_point: int | None = Field(ge=0, le=1_000_000)


class ReturnBody(_Body):
    branch: str | None = Field(default=None, max_length=20)
    ticket_no: str | None = Field(default=None, max_length=40)
    sku: str = Field(min_length=1, max_length=40)
    serial_no: str | None = Field(default=None, max_length=100)
    model: str = Field(min_length=1, max_length=100, description="equipment model it came from")
    fault: str = Field(min_length=1, max_length=2000)


class InspectBody(_Body):
    decision: Literal[DECISIONS]
    note: str | None = Field(default=None, max_length=2000)
