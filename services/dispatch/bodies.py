"""The pydantic bodies of dispatch's HTTP requests (the job's steps, the dispatcher's
assignment). Each step's body class is named in the step table
(:data:`services.dispatch.service_layer.jobs.STEPS`), which validates it after the role check,
as before."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, ValidationError,
                      WithJsonSchema)

from aftersales.contracts.events import DiagnosisCause, PartLine, PartsRequestedLine
from aftersales.errors import InvalidInput, pydantic_errors

from .responses import JobStatus

MAX_LIST = 500


def validate(schema: type[BaseModel], body: dict):
    """``body`` as ``schema``; InvalidInput naming every bad field."""
    try:
        return schema.model_validate(body)
    except ValidationError as exc:
        raise InvalidInput(pydantic_errors(exc)) from None


def _storable(at: datetime) -> datetime:
    try:
        at.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError("is out of range") from None
    return at


# an instant with its UTC offset (a naive time is refused: it could not be stored), one that
# exists in UTC too
Instant = Annotated[AwareDatetime, AfterValidator(_storable)]


# an amount of money (CNY): at most 10 digits before the point and 2 after, a JSON number or text
Amount = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2), WithJsonSchema({
    "anyOf": [{"type": "number", "minimum": 0, "maximum": 9999999999.99, "multipleOf": 0.01},
              {"type": "string", "pattern": r"^[0-9]{1,10}(\.[0-9]{1,2})?$"}],
    "examples": ["300.00"]})]


def query(schema: type[BaseModel], args):
    """The query string (``request.args``) as ``schema``: a parameter sent empty is left out
    (its default); InvalidInput naming every bad parameter."""
    return validate(schema, {k: v for k, v in args.items() if v != ""})


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


def _body(*examples: dict) -> ConfigDict:
    return ConfigDict(extra="ignore", str_strip_whitespace=True,
                      json_schema_extra={"examples": list(examples)})


class CompleteBody(Body):
    model_config = _body({"summary": "更换屋面防水卷材 12 平方米，淋水试验无渗漏",
                          "parts_used": [{"sku": "WP-ROLL-4MM", "quantity": 2}]})
    summary: str = Field(min_length=1, max_length=5000)
    parts_used: list[PartLine] = Field(default_factory=list, max_length=100)


class DeclineBody(Body):
    model_config = _body({"reason": "人在嘉定处理另一单紧急维修，今天赶不到浦东"})
    reason: str = Field(min_length=1, max_length=2000)


class ScheduleBody(Body):
    model_config = _body({"window_from": "2026-12-03T09:00:00+08:00",
                          "window_to": "2026-12-03T11:00:00+08:00",
                          "note": "张伟先生上午在家，小区东门登记后进入"})
    window_from: Instant
    window_to: Instant = Field(description="after window_from")
    note: str | None = Field(default=None, max_length=2000)


class DepartBody(Body):
    model_config = _body({"eta": "2026-12-03T09:40:00+08:00"}, {})
    eta: Instant | None = None


class DiagnoseBody(Body):
    model_config = _body({"cause": "workmanship", "responsibility": "施工单位",
                          "findings": "卫生间防水层收口处开裂，楼下天花板渗水"},
                         {"cause": "misuse", "responsibility": "业主",
                          "warranty_void": True, "void_reason": "业主自行改动排水管道",
                          "findings": "排水管接口被私自更换，接缝未做防水"})
    cause: DiagnosisCause
    responsibility: str = Field(min_length=1, max_length=100)
    warranty_void: bool = False
    void_reason: str | None = Field(default=None, max_length=2000,
                                    description="required when warranty_void")
    findings: str | None = Field(default=None, max_length=5000)


class QuoteBody(Body):
    model_config = _body({"materials": "860.00", "labour": "300.00", "travel": "50.00",
                          "note": "材料按实际用量结算"},
                         {"labour": "300.00", "travel": "50.00"})
    materials: Amount | None = Field(
        default=None,
        description="omitted: the parts service's chargeable total of the approved requests")
    labour: Amount
    travel: Amount
    note: str | None = Field(default=None, max_length=2000)


class QuoteDecisionBody(Body):
    model_config = _body({"approved": True})
    approved: bool


class SignOffBody(Body):
    model_config = _body({"accepted": True, "signed_by": "张伟"},
                         {"accepted": False, "reason": "阳台仍有渗水痕迹", "signed_by": "张伟"})
    accepted: bool
    reason: str | None = Field(default=None, max_length=2000,
                               description="required when the sign-off is rejected")
    signed_by: str | None = Field(default=None, max_length=100,
                                  description="the customer's signatory (kept with the job, "
                                              "in job_closed; not logged)")
    signature: str | None = Field(
        default=None, description="the customer's signature drawn on screen: a data URL "
        "(`data:image/png;base64,...`, a canvas's toDataURL()); PNG, JPEG or WebP by its "
        "content, within the evidence limit and the 256 KiB body; needs `signed_by`")


class PhotoMeta(Body):
    """What comes with a photo (form fields of the multipart upload, or the query string of a
    raw one): not JSON, so no examples."""
    caption: str | None = Field(default=None, max_length=500)
    taken_at: Instant | None = Field(default=None, description="when the photo was taken "
                                                               "(ISO-8601 with its offset)")


class ReportBody(Body):
    model_config = _body({"progress": "已拆除旧防水层，明天铺设新卷材", "percent": 40})
    progress: str = Field(min_length=1, max_length=5000)
    percent: int | None = Field(default=None, ge=0, le=100)


class PartsBody(Body):
    model_config = _body({"lines": [{"sku": "WP-ROLL-4MM", "quantity": 3}],
                          "note": "上海市浦东新区张江路 88 号现场急用"})
    lines: list[PartsRequestedLine] = Field(min_length=1, max_length=100)
    note: str | None = Field(default=None, max_length=2000)


class AssignBody(Body):
    model_config = _body({"engineer_id": "SH-E002", "reason": "李强请假，改派王磊"},
                         {"reason": "原工程师拒单，按排名重新派工"})
    engineer_id: str | None = Field(default=None, max_length=40,
                                    description="omitted: the next best-ranked engineer")
    reason: str = Field(min_length=1, max_length=2000)


class WaitBody(Body):
    """Why the ticket waits on the customer (waiting for parts does not pause the clocks)."""
    model_config = _body({"reason": "客户电话无人接听，约定明天再联系"})
    reason: str = Field(min_length=1, description="not a wait for parts (备件); kept to 2000 "
                                                  "characters")


class EngineerBody(Body):
    """A roster entry, fields as in the roster CSV."""
    model_config = _body({"name": "赵敏", "branch": "SH", "role": "engineer",
                          "skills": "fault:3;maintenance;main_structure:2", "zone": "浦东新区",
                          "shift": "mon-fri 08:30-12:00,13:00-17:30; sat 09:00-12:00",
                          "leave": "2026-12-24..2026-12-26", "max_jobs": 3, "active": True})
    name: str = Field(min_length=1, max_length=100)
    branch: str = Field(min_length=1, description="a branch code of the reference data (SH, "
                                                  "HZ, BJ, GZ, HQ)")
    role: Literal["engineer", "supervisor"] = "engineer"
    skills: str | list[str] | None = Field(
        default=None, description="`fault:3;maintenance` (level 1-5, default 1), or a list")
    zone: str | None = Field(default=None, description="home zone: a district named in site "
                                                       "addresses")
    shift: str | list[str] | None = Field(
        default=None, description="`mon-fri 08:30-17:30; sat 09:00-12:00`; empty: on call")
    leave: str | list[str] | None = Field(
        default=None, description="`2026-11-24..2026-11-26; 2026-12-01` (whole days)")
    max_jobs: int = Field(default=3, ge=0, le=100, description="concurrent open jobs (digits "
                                                               "as text are read too)")
    active: bool = True


class LeaveBody(Body):
    """Whole days of leave, in the branch's time zone; ``to`` defaults to ``from``."""
    model_config = _body({"from": "2026-12-24", "to": "2026-12-26"})
    from_: date = Field(alias="from")
    to: date | None = None


# -- query strings ----------------------------------------------------------------------------
def _optional(schema: dict) -> None:
    """A parameter left out is None (its default is not validated, and not a query value)."""
    schema.pop("default", None)


class Query(BaseModel):
    model_config = ConfigDict(extra="ignore")


class BranchQuery(Query):
    branch: str = Field(
        default=None, json_schema_extra=_optional, description="a branch code; another branch than the key's own: HQ keys "
                                  "only (left out: the key's branch; HQ: every branch)")


class JobsQuery(BranchQuery):
    status: JobStatus = Field(default=None, json_schema_extra=_optional,
                              description="only jobs in this state")
    limit: int = Field(default=100, ge=1, le=MAX_LIST, description="at most this many jobs")
