"""The pydantic bodies of parts' HTTP requests and the models of their query parameters, next
to the entrypoints (``service.py``). They validate what arrives and are the OpenAPI
document's request schemas (``json_api(body=..., query=...)``)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field,
                      ValidationError, ValidationInfo, field_validator)

from aftersales.errors import InvalidInput, pydantic_errors
from aftersales.service import query_time

from .domain import requests as rq
from .domain.returns import DECISIONS


def _examples(*examples: dict) -> dict:
    return {"examples": list(examples)}


NUL_MESSAGE = "must not contain a NUL character (\\u0000)"


def no_nul(value: Any) -> Any:
    """No text of a request may hold a NUL: PostgreSQL can neither store nor compare it (an
    unchecked one was a 500 there)."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError(NUL_MESSAGE)
    return value


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def _text(cls, value):
        return no_nul(value)


Branch = Annotated[str | None, Field(default=None, max_length=20, examples=["SH"],
                                     description="branch code (its warehouse); the key's own "
                                                 "when left out (an HQ key must name it)")]
Sku = Annotated[str, Field(min_length=1, max_length=40, examples=["DQ-DL-NXB63"],
                           description="a SKU of the catalogue (`GET /api/v1/catalogue`)")]
Note = Annotated[str | None, Field(default=None, max_length=2000)]


class LineBody(_Body):
    sku: Sku
    quantity: int = Field(ge=1, le=10000)


class RequestBody(_Body):
    model_config = ConfigDict(json_schema_extra=_examples(
        {"ticket_no": "SH-20261122-0001", "branch": "SH",
         "lines": [{"sku": "DQ-DL-NXB63", "quantity": 2}, {"sku": "DQ-JC-CJX2", "quantity": 1}],
         "note": "配电柜 GGD-2 断路器烧毁，客户张伟（上海市浦东新区张江路 88 号）要求尽快更换"}))
    ticket_no: str = Field(min_length=1, max_length=40, examples=["SH-20261122-0001"])
    branch: Branch
    lines: list[LineBody] = Field(min_length=1, max_length=100)
    note: Note


class NoteBody(_Body):
    model_config = ConfigDict(json_schema_extra=_examples({"note": "同意：保修期内更换，王经理"}))
    note: Note


class ReasonBody(_Body):
    model_config = ConfigDict(json_schema_extra=_examples(
        {"reason": "客户李娜已自行采购断路器，无需再发料"}))
    reason: str = Field(min_length=1, max_length=2000)


# what the handler requires of each kind (``service_layer/warehouse.py``), for the document
KIND_NEEDS = {"allOf": [{
    "if": {"properties": {"kind": {"const": "stocktake"}}},
    "then": {"required": ["counted"], "properties": {"counted": {"type": "integer"}}},
    "else": {"required": ["quantity"], "properties": {"quantity": {"type": "integer"}}}}]}


class MovementBody(_Body):
    """``quantity`` for a receipt or a write-off (scrap), ``counted`` for a stocktake."""
    model_config = ConfigDict(json_schema_extra=KIND_NEEDS | _examples(
        {"branch": "SH", "kind": "receive", "sku": "GJ-LS-M20", "quantity": 100,
         "note": "供应商到货：高强度螺栓 M20×80，送货单 NO.20261122-07"},
        {"branch": "BJ", "kind": "stocktake", "sku": "DQ-JC-CJX2", "counted": 28,
         "note": "北京分公司月末盘点"},
        {"branch": "HZ", "kind": "scrap", "sku": "WM-CB-0476", "quantity": 3,
         "note": "运输途中压损，报废"}))
    branch: Branch
    kind: Literal["receive", "scrap", "stocktake"]
    sku: Sku
    quantity: int | None = Field(default=None, ge=1, le=1_000_000,
                                 description="required for a receipt or a write-off")
    counted: int | None = Field(default=None, ge=0, le=1_000_000,
                                description="what is on the shelf: required for a stocktake")
    note: Note


class ReorderPointBody(_Body):
    model_config = ConfigDict(json_schema_extra=_examples(
        {"branch": "HZ", "sku": "WM-FS-SBS4", "reorder_point": 15},
        {"branch": "GZ", "sku": "JX-KY-LX37", "reorder_point": None}))
    branch: Branch
    sku: Sku
    reorder_point: int | None = Field(ge=0, le=1_000_000, description="null: back to the "
                                                                      "catalogue's default")


class ReturnBody(_Body):
    model_config = ConfigDict(json_schema_extra=_examples(
        {"branch": "SH", "ticket_no": "SH-20261122-0001", "sku": "DQ-DL-NXB63",
         "serial_no": "NXB63-2408-00317", "model": "配电柜 GGD-2",
         "fault": "合闸后频繁跳闸，触头烧蚀（浦东新区张江厂房现场拆回）"}))
    branch: Branch
    ticket_no: str | None = Field(default=None, max_length=40)
    sku: Sku
    serial_no: str | None = Field(default=None, max_length=100)
    model: str = Field(min_length=1, max_length=100, description="equipment model it came from")
    fault: str = Field(min_length=1, max_length=2000)


class InspectBody(_Body):
    model_config = ConfigDict(json_schema_extra=_examples(
        {"decision": "design_defect", "note": "灭弧罩材质不耐高温，同批次三台出现同样故障"},
        {"decision": "repaired_and_restocked", "note": "更换触头后测试合格，入库"}))
    decision: Literal[DECISIONS]
    note: Note


# -- query parameters -------------------------------------------------------------------------
LIMIT_MESSAGE = "must be a whole number from 1 to 1000"


def _limit(raw: Any) -> int:
    if raw is None or raw == "":
        return 200
    try:
        limit = int(raw)
    except (TypeError, ValueError):
        limit = 0
    if not 1 <= limit <= 1000:
        raise ValueError(LIMIT_MESSAGE)
    return limit


def _request_status(raw: Any) -> str | None:
    if not raw:
        return None
    if raw not in rq.STATUSES:
        raise ValueError(f"must be one of {', '.join(rq.STATUSES)}")
    return raw


class _Query(BaseModel):
    """Query parameters: strings on the wire, read by :func:`parse_query`. In the document an
    optional parameter is its type (a query string has no null)."""
    model_config = ConfigDict(extra="ignore")

    @field_validator("*")
    @classmethod
    def _text(cls, value):
        return no_nul(value)

    @classmethod
    def model_json_schema(cls, *args, **kwargs) -> dict:
        schema = super().model_json_schema(*args, **kwargs)
        for prop in schema.get("properties", {}).values():
            kinds = prop.get("anyOf", ())
            if any(k == {"type": "null"} for k in kinds):
                rest = [k for k in kinds if k != {"type": "null"}]
                del prop["anyOf"]
                prop.update(rest[0] if len(rest) == 1 else {"anyOf": rest})
                if prop.get("default", ...) is None:
                    del prop["default"]
        return schema


def parse_query(model: type[_Query], request) -> _Query:
    """The request's query parameters validated by ``model``; InvalidInput naming every bad
    parameter (a 422). Parameters the model does not name are ignored."""
    args = request.args
    try:
        return model.model_validate({name: args.get(name) for name in model.model_fields
                                     if name in args})
    except ValidationError as exc:
        raise InvalidInput(pydantic_errors(exc)) from None


QueryBranch = Annotated[str | None, Field(default=None, examples=["SH"], description=(
    "branch code; a branch key's own when left out, which an HQ key may not do"))]
ListBranch = Annotated[str | None, Field(default=None, examples=["SH"], description=(
    "branch code; a branch key's own when left out; every branch for an HQ key"))]
Limit = Annotated[int, Field(ge=1, le=1000), BeforeValidator(_limit), Field(
    default=200, description="at most this many, newest first")]


class CatalogueQuery(_Query):
    model: str | None = Field(default=None, examples=["配电柜 GGD-2"],
                              description="only the parts that fit this equipment model")


class StockQuery(_Query):
    branch: QueryBranch


class LedgerQuery(_Query):
    branch: QueryBranch
    ticket_no: str | None = Field(default=None, examples=["SH-20261122-0001"])
    sku: str | None = Field(default=None, examples=["DQ-DL-NXB63"])
    request_id: str | None = None
    limit: Limit


class RequestsQuery(_Query):
    branch: ListBranch
    status: Annotated[Literal[rq.STATUSES] | None, BeforeValidator(_request_status)] = None
    ticket_no: str | None = Field(default=None, examples=["SH-20261122-0001"])
    limit: Limit


class TransfersQuery(_Query):
    branch: ListBranch
    status: str | None = Field(default=None, examples=["in_transit"], description=(
        "in_transit or received (another value lists nothing)"))
    limit: Limit


class BackordersQuery(_Query):
    branch: ListBranch
    status: str | None = Field(default=None, examples=["open"], description=(
        "open, received or cancelled (another value lists nothing)"))
    limit: Limit


class ReturnsQuery(_Query):
    branch: ListBranch
    status: str | None = Field(default=None, examples=["awaiting_inspection"], description=(
        "awaiting_inspection or inspected (another value lists nothing)"))
    limit: Limit


TIME = ("ISO-8601 date or time; without an offset, China Standard Time (Asia/Shanghai)")


def _instant(raw: str | None, info: ValidationInfo) -> datetime | None:
    """``query_time``'s reading of the parameter, an instant that has a UTC time (the years
    1 and 9999 at the edge of an offset had none: a 500)."""
    try:
        at = query_time(raw, info.field_name)
    except InvalidInput as exc:
        raise ValueError(exc.errors[0]["message"]) from None
    if at is not None:
        try:
            at.astimezone(timezone.utc)
        except OverflowError:
            raise ValueError("is out of range") from None
    return at


Instant = Annotated[str | None, AfterValidator(_instant)]


class DefectsQuery(_Query):
    branch: ListBranch
    model: str | None = Field(default=None, examples=["配电柜 GGD-2"],
                              description="only this equipment model")
    since: Instant = Field(default=None, examples=["2026-11-01"],
                           description="returns received from then on; " + TIME)
    until: Instant = Field(default=None, examples=["2026-12-01T00:00:00+08:00"],
                           description="returns received before then; " + TIME)


class LedgerReportQuery(_Query):
    branch: QueryBranch
    month: str = Field(examples=["2026-11"], json_schema_extra={
        "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$"},
        description="the branch's calendar month, YYYY-MM (2000-2100)")
    format: Literal["json", "csv"] = Field(default="json", description="csv: a download")
