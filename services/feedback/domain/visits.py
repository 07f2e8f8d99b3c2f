"""Return visits (回访): after completion (1, 3 and 6 months by default), seasonal plans (e.g.
a rainy-season roof-waterproofing check for matching projects) and annual plans (projects
delivered the year before); outcomes; a visit that finds a problem becomes a new request in
the phone-center format (source ``return_visit``).

Pure Python: no framework, database or broker imports.
"""
from __future__ import annotations

import calendar
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

DEFAULT_VISIT_MONTHS = (1, 3, 6)
AFTER_COMPLETION, SEASONAL, ANNUAL = "after_completion", "seasonal", "annual"
KINDS = (AFTER_COMPLETION, SEASONAL, ANNUAL)
SCHEDULED, DONE = "scheduled", "done"
OUTCOMES = ("ok", "problem_found", "unreachable")
REQUEST_SOURCE = "return_visit"
FAULT_MAX = 5000   # the characters of the phone-center request's fault.description


class VisitError(ValueError):
    """The action does not fit the visit's state (409)."""


def add_months(at: datetime, months: int) -> datetime:
    """The same day ``months`` later, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    m = at.month - 1 + months
    year, month = at.year + m // 12, m % 12 + 1
    return at.replace(year=year, month=month, day=min(at.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class JobFacts:
    """What feedback keeps of a ticket for its visits and statistics (its own copy)."""
    ticket_no: str
    branch: str
    category: str | None = None
    priority: str | None = None
    customer: dict = field(default_factory=dict)   # name, contact_name, phone, email
    site: dict = field(default_factory=dict)       # address, project, contract_no
    asset: dict = field(default_factory=dict)      # serial_no, model, component
    engineer_id: str | None = None
    completed_at: datetime | None = None
    closed_at: datetime | None = None
    first_time_fix: bool | None = None
    rework_count: int | None = None

    @property
    def project_key(self) -> str:
        """One visit per project and plan: the contract, else the project, else the address."""
        s = self.site or {}
        return (s.get("contract_no") or s.get("project") or s.get("address") or self.ticket_no)[:200]


@dataclass
class Visit:
    visit_id: str
    key: str                     # unique: what makes scheduling idempotent
    ticket_no: str
    branch: str
    kind: str
    due_at: datetime
    plan_id: str | None = None
    label: str | None = None
    status: str = SCHEDULED
    outcome: str | None = None
    notes: str | None = None
    completed_at: datetime | None = None
    completed_by: str | None = None
    request_id: str | None = None

    def is_due(self, now: datetime) -> bool:
        return self.status == SCHEDULED and self.due_at <= now

    def record(self, outcome: str, by: str, now: datetime, notes: str | None = None) -> None:
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
        if self.status != SCHEDULED:
            raise VisitError("this visit's outcome was recorded already")
        self.status, self.outcome, self.completed_by, self.completed_at, self.notes = \
            DONE, outcome, by, now, notes
        if outcome == "problem_found":
            self.request_id = request_id_for(self)


def _new_id() -> str:
    return f"RV-{uuid.uuid4().hex[:12].upper()}"


def after_completion(job: JobFacts, months=DEFAULT_VISIT_MONTHS,
                     tz: str = "Asia/Shanghai") -> list[Visit]:
    """The visits 1, 3 and 6 months (or ``months``) after the job's completion: the same local
    day and time in the branch's time zone ``tz``, ``m`` months later (due times in UTC)."""
    start = (job.completed_at or job.closed_at).astimezone(ZoneInfo(tz))
    return [Visit(_new_id(), f"{job.ticket_no}:after:{m}", job.ticket_no, job.branch,
                  AFTER_COMPLETION, add_months(start, m).astimezone(timezone.utc),
                  label=f"{m} 个月回访")
            for m in sorted(set(months))]


@dataclass(frozen=True)
class Plan:
    """A seasonal or annual visit plan (reference data, managed over HTTP).

    seasonal: each year on ``month``/``day``, every project with a closed job before that
    date matching the filters. annual: each year on ``month``/``day``, every project with a
    job closed in the previous calendar year matching the filters. Filters (all optional):
    ``categories`` (ticket categories), ``keywords`` (found in the asset's component or model,
    or the project's name)."""
    plan_id: str
    name: str
    kind: str
    month: int
    day: int = 1
    categories: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    branches: tuple[str, ...] = ()
    active: bool = True

    def date_in(self, year: int, tz: str = "Asia/Shanghai") -> datetime:
        day = min(self.day, calendar.monthrange(year, self.month)[1])
        return datetime.combine(date(year, self.month, day), time(9, 0), ZoneInfo(tz))

    def matches(self, job: JobFacts) -> bool:
        if self.branches and job.branch not in self.branches:
            return False
        if self.categories and job.category not in self.categories:
            return False
        if self.keywords:
            text = " ".join(str(v) for v in ((job.asset or {}).get("component"),
                                             (job.asset or {}).get("model"),
                                             (job.site or {}).get("project")) if v)
            if not any(k in text for k in self.keywords):
                return False
        return True


PLAN_ID_MAX = 60     # a plan's id (it names the plan's visits)
PLAN_NAME_MAX = 100  # a plan's name (its visits' labels are the name and the year)


def plan_errors(doc: dict) -> list[dict]:
    errors = []
    if not isinstance(doc.get("name"), str) or not doc.get("name", "").strip():
        errors.append({"field": "name", "message": "is required"})
    elif len(doc["name"].strip()) > PLAN_NAME_MAX:
        errors.append({"field": "name", "message": f"is longer than {PLAN_NAME_MAX} characters"})
    if doc.get("kind") not in (SEASONAL, ANNUAL):
        errors.append({"field": "kind", "message": f"must be {SEASONAL} or {ANNUAL}"})
    month, day = doc.get("month"), doc.get("day", 1)
    if not isinstance(month, int) or isinstance(month, bool) or not 1 <= month <= 12:
        errors.append({"field": "month", "message": "must be a whole number from 1 to 12"})
    if not isinstance(day, int) or isinstance(day, bool) or not 1 <= day <= 31:
        errors.append({"field": "day", "message": "must be a whole number from 1 to 31"})
    for f in ("categories", "keywords", "branches"):
        v = doc.get(f, [])
        if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
            errors.append({"field": f, "message": "must be a list of texts"})
    if "active" in doc and not isinstance(doc["active"], bool):
        errors.append({"field": "active", "message": "must be true or false"})
    return errors


def plan_from(plan_id: str, doc: dict) -> Plan:
    return Plan(plan_id=plan_id, name=doc["name"].strip(), kind=doc["kind"], month=doc["month"],
                day=doc.get("day", 1), categories=tuple(doc.get("categories", [])),
                keywords=tuple(doc.get("keywords", [])), branches=tuple(doc.get("branches", [])),
                active=doc.get("active", True))


def plan_visits(plan: Plan, year: int, jobs: list[JobFacts], tz: str = "Asia/Shanghai") -> list[Visit]:
    """The visits a plan schedules in ``year``: one per matching project (its latest job)."""
    when = plan.date_in(year, tz)
    latest: dict[tuple[str, str], JobFacts] = {}
    for job in jobs:
        closed = job.closed_at
        if closed is None or not plan.matches(job):
            continue
        if plan.kind == ANNUAL:
            local_year = closed.astimezone(ZoneInfo(tz)).year
            if local_year != year - 1:
                continue
        elif closed >= when:
            continue
        k = (job.branch, job.project_key)
        if k not in latest or latest[k].closed_at < closed:
            latest[k] = job
    return [Visit(_new_id(), f"{plan.plan_id}:{year}:{branch}:{project}", job.ticket_no, branch,
                  plan.kind, when, plan_id=plan.plan_id, label=f"{plan.name} {year}")
            for (branch, project), job in sorted(latest.items())]


def request_id_for(visit: Visit) -> str:
    """The new request's id: one per visit, so recording it twice cannot open two tickets."""
    return f"RV-REQ-{visit.visit_id}"


def repair_request(visit: Visit, job: JobFacts, problem: str, now: datetime,
                   category: str | None = None, priority: str | None = None) -> dict:
    """The phone-center ``repair_requested`` body for a problem found on a visit."""
    customer = {k: v for k, v in (job.customer or {}).items()
                if k in ("name", "contact_name", "phone", "email") and v}
    site = {k: v for k, v in (job.site or {}).items()
            if k in ("address", "project", "contract_no") and v}
    asset = {k: v for k, v in (job.asset or {}).items()
             if k in ("serial_no", "model", "component") and v}
    fault = {"description": fault_description(visit, job.ticket_no, problem)}
    if category:
        fault["category"] = category
    body = {"request_id": visit.request_id or request_id_for(visit), "source": REQUEST_SOURCE,
            "branch": job.branch, "channel": "phone", "received_at": now.isoformat(),
            "customer": customer, "site": site, "asset": asset, "fault": fault}
    if priority:
        body["priority"] = priority
    return body


def fault_description(visit: Visit, ticket_no: str, problem: str) -> str:
    """The new request's fault: the problem found, with the visit and the original ticket."""
    return f"回访发现问题（{visit.label or visit.kind}，原工单 {ticket_no}）：{problem}"


def problem_limit(visit: Visit, ticket_no: str) -> int:
    """The longest problem that fits the request's description with the visit's reference."""
    return FAULT_MAX - len(fault_description(visit, ticket_no, ""))
