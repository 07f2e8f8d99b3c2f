"""The pydantic bodies and query parameters of feedback's HTTP requests. Survey answers and
visit plans are read as JSON objects and checked by the domain's rules after the survey or
plan is found (``model.answer_errors``, ``visits.plan_errors``): their models here describe
what those rules accept, for the OpenAPI document."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import (BaseModel, ConfigDict, Field, RootModel, ValidationError, field_validator,
                      model_validator)

from aftersales.contracts.events import CATEGORIES, COMPLAINT_SEVERITIES
from aftersales.errors import InvalidInput, pydantic_errors

from .domain import model
from .domain import visits as rv
from .responses import absent
from .service_layer.common import DEFAULT_TZ

YEARS = (2000, 2100)   # the years a deadline, a plan's run or a month may fall in


def _examples(*examples: dict) -> dict:
    return {"examples": list(examples)}


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ComplaintBody(_Body):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True,
                              json_schema_extra=_examples({
                                  "ticket_no": "SH-20261122-000123", "branch": "SH",
                                  "severity": "high",
                                  "description": "张伟来电：上海市浦东新区世纪大道100号屋面维修后仍然漏水，"
                                                 "要求经理出面处理",
                                  "owner": "李娜", "deadline": "2026-11-24T18:00:00+08:00"}))
    ticket_no: str = Field(min_length=1, max_length=40)
    branch: str | None = Field(default=None, max_length=20)
    severity: Literal[COMPLAINT_SEVERITIES]
    description: str = Field(min_length=1, max_length=5000)
    owner: str | None = Field(default=None, max_length=100)
    deadline: datetime | None = None

    @field_validator("deadline")
    @classmethod
    def _local(cls, v: datetime | None) -> datetime | None:
        """A deadline without an offset is China's local time; it falls in the years 2000-2100
        (an instant beyond what a date can hold in UTC was a 500)."""
        if v is not None and v.tzinfo is None:
            v = v.replace(tzinfo=ZoneInfo(DEFAULT_TZ))
        if v is not None and not YEARS[0] <= v.year <= YEARS[1]:
            raise ValueError(f"must fall in the years {YEARS[0]}-{YEARS[1]}")
        return v


class TextBody(_Body):
    """A note on a complaint (``note``) or its resolution (``resolve``)."""
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True,
                              json_schema_extra=_examples(
                                  {"text": "已安排王强工程师12月3日上午上门复查屋面防水层"}))
    text: str = Field(min_length=1, max_length=5000)


class AssignBody(_Body):
    """A complaint's new owner (``assign``)."""
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True,
                              json_schema_extra=_examples({"owner": "李娜"}))
    owner: str = Field(min_length=1, max_length=100)


class ConfirmBody(_Body):
    """The customer's answer to the resolution (``confirm``): closed, or reopened."""
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True,
                              json_schema_extra=_examples(
                                  {"satisfied": True, "note": "张伟确认漏水已修好"}))
    satisfied: bool
    note: str | None = Field(default=None, max_length=2000)


class ComplaintActionBody(RootModel[TextBody | AssignBody | ConfirmBody]):
    """The body of ``POST /api/v1/complaints/{complaint_id}/{action}``: ``note`` and
    ``resolve`` take ``{text}``, ``assign`` takes ``{owner}``, ``confirm`` takes
    ``{satisfied, note}``."""
    model_config = ConfigDict(json_schema_extra=_examples(
        {"text": "已安排王强工程师12月3日上午上门复查屋面防水层"}, {"owner": "李娜"},
        {"satisfied": False, "note": "雨后天沟仍有渗水"}))


class CloseBody(_Body):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True,
                              json_schema_extra=_examples(
                                  {"note": "已致电张伟，工程师态度问题已向分公司反馈，客户表示理解"}))
    note: str = Field(min_length=1, max_length=5000)


class VisitOutcomeBody(_Body):
    """A return visit's outcome; ``problem_found`` needs the ``problem`` (the new request's
    description, which also names the visit and the ticket within its 5000 characters)."""
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={
        **_examples({"outcome": "ok", "notes": "张伟表示屋面无渗漏"},
                    {"outcome": "problem_found",
                     "problem": "上海市浦东新区世纪大道100号3号楼天沟雨后渗水",
                     "category": "fault", "priority": "B"}),
        "if": {"properties": {"outcome": {"const": "problem_found"}}},
        "then": {"required": ["problem"],
                 "properties": {"problem": {"type": "string", "pattern": r"\S"}}}})
    outcome: Literal[rv.OUTCOMES]
    notes: str | None = Field(default=None, max_length=5000)
    problem: str | None = Field(default=None, max_length=5000)
    category: Literal[CATEGORIES] | None = None
    priority: Literal["A", "B", "C"] | None = None


# -- the bodies the domain checks (read as JSON objects) ----------------------------------------
_SCORE = {"ge": model.SCORE_RANGE[0], "le": model.SCORE_RANGE[1]}


class SurveyAnswerBody(BaseModel):
    """A survey's answer (over the link or recorded on the phone): the six scores 1-5, the
    would-recommend score 0-10 and an optional comment; other fields are ignored."""
    model_config = ConfigDict(json_schema_extra=_examples({
        "response_speed": 5, "attitude": 5, "professionalism": 4, "effectiveness": 4,
        "communication": 5, "overall": 5, "recommend": 9,
        "comment": "王工程师准时上门，屋面漏水一次修好，很满意"}))
    response_speed: int = Field(description="响应速度", **_SCORE)
    attitude: int = Field(description="服务态度", **_SCORE)
    professionalism: int = Field(description="专业水平", **_SCORE)
    effectiveness: int = Field(description="维修效果", **_SCORE)
    communication: int = Field(description="沟通及时性", **_SCORE)
    overall: int = Field(description="总体满意度 (≤ 3, or any score ≤ 2: a follow-up)", **_SCORE)
    recommend: int = Field(ge=model.RECOMMEND_RANGE[0], le=model.RECOMMEND_RANGE[1],
                           description=model.RECOMMEND_LABEL)
    comment: str | None = Field(default=None, max_length=model.COMMENT_MAX,
                                description=model.COMMENT_LABEL)


class PlanBody(BaseModel):
    """A seasonal or annual return-visit plan (HQ managers); other fields are ignored."""
    model_config = ConfigDict(json_schema_extra=_examples({
        "name": "雨季屋面防水检查", "kind": "seasonal", "month": 5, "day": 15,
        "keywords": ["屋面", "防水", "天沟"], "categories": [], "branches": ["SH", "HZ"],
        "active": True}))
    name: str = Field(min_length=1, max_length=rv.PLAN_NAME_MAX, pattern=r"\S",
                      description="not blank")
    kind: Literal[rv.SEASONAL, rv.ANNUAL]
    month: int = Field(ge=1, le=12)
    day: int = Field(default=1, ge=1, le=31, description="clamped to the month's last day")
    categories: list[Annotated[str, Field(min_length=1)]] = Field(
        default=[], description="ticket categories to match (empty: every one)")
    keywords: list[Annotated[str, Field(min_length=1)]] = Field(
        default=[], description="found in the asset's component or model, or the project")
    branches: list[Annotated[str, Field(min_length=1)]] = Field(
        default=[], description="branch codes (empty: every branch)")
    active: bool = True


# -- query parameters ---------------------------------------------------------------------------
class _Query(BaseModel):
    model_config = ConfigDict(extra="ignore")


def query(model_cls: type[BaseModel], request) -> BaseModel:
    """The request's query parameters (the first value of each) read through ``model_cls``;
    InvalidInput naming every bad parameter."""
    try:
        return model_cls.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise InvalidInput(pydantic_errors(exc)) from None


_BRANCH = ("a branch code of deploy/reference/branches.json (SH, HZ, BJ, GZ); a branch key "
           "lists its own branch")


class SurveysQuery(_Query):
    ticket_no: str = Field(description="the ticket whose surveys are listed (required)",
                           examples=["SH-20261122-000123"])


class FollowUpsQuery(_Query):
    branch: str = absent(description=_BRANCH + "; an HQ key without it lists every branch",
                         examples=["SH"])
    status: str = absent(description="open or closed (another value matches nothing)",
                         examples=["open"])


class ComplaintsQuery(FollowUpsQuery):
    status: str = absent(description="open, resolved or closed (another value matches nothing)",
                         examples=["open"])
    ticket_no: str = absent(examples=["SH-20261122-000123"])


class VisitsQuery(_Query):
    branch: str = absent(description=_BRANCH + "; required with an HQ key", examples=["SH"])
    status: str = Field(default="scheduled", description="scheduled or done; empty: every status",
                        examples=["scheduled"])
    due_before: str = absent(description="ISO-8601 date or time (no offset: Beijing time); "
                                         "the scheduled list defaults to now (the due list)",
                             examples=["2026-12-31T00:00:00+08:00"])
    all: str = absent(description="1: every scheduled visit, not only the due ones",
                      examples=["1"])
    ticket_no: str = absent(examples=["SH-20261122-000123"])


class GenerateQuery(_Query):
    year: int = Field(ge=YEARS[0], le=YEARS[1], description="the year whose visits are scheduled",
                      examples=[2027])

    @model_validator(mode="before")
    @classmethod
    def _required(cls, data):
        return {"year": "", **data} if isinstance(data, dict) else data

    @field_validator("year", mode="before")
    @classmethod
    def _digits(cls, v):
        """Whole ASCII digits ("²" passed isdigit() and was a 500) within the years."""
        if not (isinstance(v, str) and v.isascii() and v.isdigit()):
            raise ValueError("is required (e.g. 2027)")
        if not YEARS[0] <= int(v) <= YEARS[1]:
            raise ValueError(f"must be a year from {YEARS[0]} to {YEARS[1]}")
        return int(v)


class ReportQuery(_Query):
    branch: str = absent(description=_BRANCH + "; required with an HQ key", examples=["SH"])
    month: str = absent(pattern=r"^\d{4}-\d{2}$",
                        description="YYYY-MM (2000-2100) in the branch's time zone; default: "
                                    "this month", examples=["2026-11"])
    format: Literal["json", "csv"] = Field(default="json", description="csv: a UTF-8 download")
