"""The HTTP request bodies and queries of intake (pydantic). A repair request's body is the
phone-center contract itself (:class:`aftersales.contracts.events.RepairRequested`; here
:class:`RepairRequestBody`, the same fields with an example), validated by the ``ReceiveRequest``
handler so that a bad one is answered with ``request_rejected``."""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from aftersales.contracts.events import PRIORITIES, Category, Priority, RepairRequested
from aftersales.errors import InvalidInput, pydantic_errors
from aftersales.service import parse

from .domain import model


class RepairRequestBody(RepairRequested):
    """A repair request (``POST /api/v1/tickets``): the phone centers' ``repair_requested``.
    Intake also refuses an unknown branch, a ``received_at`` more than 365 days ago or more than
    an hour ahead and an ``expected_by`` more than two years ahead (422 naming the field)."""
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "request_id": "CALL-20261122-0001", "source": "pc-shanghai", "branch": "SH",
        "channel": "phone", "received_at": "2026-11-22T09:30:00+08:00",
        "customer": {"name": "上海张江钢构有限公司", "contact_name": "张伟",
                     "phone": "13812345678", "email": "zhangwei@example.cn"},
        "site": {"address": "上海市浦东新区张江路88号3号厂房", "project": "张江物流园三期厂房",
                 "contract_no": "HT-2019-0618"},
        "asset": {"serial_no": "SH-GJ-2019-0001", "model": "钢结构厂房主体",
                  "component": "屋面檩条"},
        "fault": {"description": "屋面檩条锈蚀，局部漏水，需要检修", "category": "fault"},
        "priority": "B", "expected_by": "2026-11-25T18:00:00+08:00"}]})


class _Body(BaseModel):
    """A body whose fields are the keyword arguments of its command."""
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @classmethod
    def read(cls, request):
        """The request's body, or InvalidInput naming every bad field (422; 400 when
        unreadable)."""
        return parse(cls, request)


def _examples(*examples: dict) -> ConfigDict:
    return ConfigDict(extra="forbid", str_strip_whitespace=True,
                      json_schema_extra={"examples": list(examples)})


class ContactBody(_Body):
    """The customer was contacted (the first contact stops the response clock)."""
    model_config = _examples({"channel": "phone", "note": "已电话联系张伟先生，约明早九点上门"})

    channel: Literal["phone", "sms", "email", "wechat", "onsite"] = "phone"
    note: str | None = Field(default=None, max_length=2000)


class ReclassifyBody(_Body):
    """A new priority and/or category (at least one of them), and why."""
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={
        "examples": [{"priority": "A", "category": "emergency_repair",
                      "reason": "客户现场停产，升级为紧急抢修"}],
        "anyOf": [{"required": ["priority"], "properties": {"priority": {"type": "string"}}},
                  {"required": ["category"], "properties": {"category": {"type": "string"}}}]})

    priority: Priority | None = None
    category: Category | None = None
    reason: str = Field(min_length=1, max_length=1000)

    @classmethod
    def read(cls, request):
        """Every bad field named, then at least one of priority and category given (both 422,
        before the ticket is looked up)."""
        body = super().read(request)
        if body.priority is None and body.category is None:
            raise InvalidInput([{"field": "priority", "message": "give priority and/or category"}])
        return body


class ResolveBody(_Body):
    """How the ticket was resolved without a visit."""
    model_config = _examples({"resolution": "已电话解答，并通过邮件发送年度保养申请表"})

    resolution: str = Field(min_length=1, max_length=5000)


class ReasonBody(_Body):
    """Why (a cancellation, a linked request split off)."""
    model_config = _examples({"reason": "客户来电告知已自行修复，取消报修"})

    reason: str = Field(min_length=1, max_length=1000)


# -- queries ---------------------------------------------------------------------------------------
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)   # beyond them: no instant to compare


def _whole(lo: int, hi: int):
    def check(cls, raw):
        try:
            value = int(raw)
            if not lo <= value <= hi:
                raise ValueError
            return value
        except (TypeError, ValueError):
            raise ValueError(f"must be a whole number from {lo} to {hi}") from None
    return check


class _Query(BaseModel):
    """Query parameters: an optional one is absent, never null, so its schema is the value's
    (``anyOf [..., null]`` and ``default: null`` left out of the document)."""

    @classmethod
    def model_json_schema(cls, *args, **kwargs) -> dict:
        schema = super().model_json_schema(*args, **kwargs)
        for prop in schema.get("properties", {}).values():
            kinds = [k for k in prop.pop("anyOf", ()) if k.get("type") != "null"]
            if len(kinds) == 1:
                prop.update(kinds[0])
            elif kinds:
                prop["anyOf"] = kinds
            if prop.get("default", 0) is None:
                del prop["default"]
        return schema


class TicketQuery(_Query):
    """The ticket list's filters (``GET /api/v1/tickets``); an empty parameter is left out."""
    model_config = ConfigDict(extra="ignore")

    branch: str | None = Field(None, description=(
        "A branch code (e.g. SH). A branch key may name only its own branch (another: 404); "
        "an HQ key sees every branch when it leaves this out."))
    status: str | None = Field(None, description=(
        "The ticket's status, one of: " + ", ".join(model.OPEN_STATUSES + model.FINAL_STATUSES)
        + " (another value matches no ticket)."))
    priority: Priority | None = Field(None, description="A, B or C.")
    phone: str | None = Field(None, description="The customer's phone number, exactly as given.")
    from_: date | None = Field(None, alias="from", description=(
        "Received on or after this day (YYYY-MM-DD, the day in Asia/Shanghai)."))
    to: date | None = Field(None, description=(
        "Received on or before this day (YYYY-MM-DD, the day in Asia/Shanghai)."))
    page: int = Field(1, ge=1, le=100_000, description="The page, from 1.")
    per_page: int = Field(50, ge=1, le=200, description="Tickets per page (at most 200).")

    _page = field_validator("page", mode="before")(_whole(1, 100_000))
    _per_page = field_validator("per_page", mode="before")(_whole(1, 200))

    @field_validator("priority", mode="before")
    @classmethod
    def _priority(cls, raw):
        if raw not in PRIORITIES:
            raise ValueError("must be A, B or C")
        return raw

    @field_validator("from_", "to", mode="before")
    @classmethod
    def _day(cls, raw):
        try:
            day = date.fromisoformat(raw) if isinstance(raw, str) else raw
        except ValueError:
            raise ValueError("must be a date (YYYY-MM-DD)") from None
        if not isinstance(day, date) or not FIRST_DAY <= day <= LAST_DAY:
            raise ValueError(f"must be a date (YYYY-MM-DD) from {FIRST_DAY} to {LAST_DAY}")
        return day

    @classmethod
    def read(cls, args) -> "TicketQuery":
        """The query parameters (first values; empty ones left out), or InvalidInput naming
        every bad one (422)."""
        given = {k: v for k, v in dict(args).items() if v not in (None, "")}
        try:
            return cls.model_validate(given)
        except ValidationError as exc:
            raise InvalidInput(pydantic_errors(exc)) from None
