"""Intake's domain: tickets, numbering, classification, warranty, the ticket's status.

Pure Python: no framework, database or broker imports.
"""
from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from aftersales.localtime import iso, local_date

# categories that need an engineer on site: one list, shared with dispatch
from aftersales.categories import needs_visit  # noqa: F401 (model.needs_visit)


# -- ticket numbers -------------------------------------------------------------------------
def ticket_number(branch: str, day: date, seq: int) -> str:
    """``SH-20261122-0007``: branch, local day of receipt, sequence within the day."""
    if seq < 1:
        raise ValueError("sequence starts at 1")
    return f"{branch}-{day:%Y%m%d}-{seq:04d}"


TICKET_NO_RE = re.compile(r"^[A-Z]{2,5}-\d{8}-\d{4,}$")


# -- classification -------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    name: str
    keywords: tuple[str, ...]
    priority: str | None = None
    category: str | None = None


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("A-safety-outage", ("停电", "停产", "漏电", "起火", "火灾", "人身安全", "坍塌", "倒塌",
                             "outage", "production stop", "fire", "electric shock", "collapse",
                             "safety"), priority="A", category="emergency_repair"),
    Rule("B-partial", ("局部", "漏水", "渗漏", "调试", "降级", "partial", "leak", "commissioning",
                       "degraded"), priority="B", category="fault"),
    Rule("complaint", ("投诉", "complaint", "不满意"), category="complaint"),
    Rule("consultation", ("咨询", "请问", "如何", "question", "how to"), priority="C",
         category="consultation"),
    Rule("maintenance", ("保养", "维护", "巡检", "maintenance", "inspection"), category="maintenance"),
    Rule("training", ("培训", "training"), category="training"),
    Rule("installation", ("安装", "installation"), category="installation"),
    Rule("parts", ("备件", "配件", "spare part"), category="parts"),
)


@dataclass(frozen=True)
class Classification:
    priority: str
    category: str
    rule: str   # which rule (or "given") decided; recorded on the ticket


def rules_from(doc: list[dict]) -> tuple[Rule, ...]:
    """Rules from a branch's rules file (a JSON list of {name, keywords, priority?, category?})."""
    out = []
    for i, r in enumerate(doc):
        if not r.get("name") or not r.get("keywords"):
            raise ValueError(f"rule {i}: needs a name and keywords")
        if r.get("priority") not in (None, "A", "B", "C"):
            raise ValueError(f"rule {r['name']}: priority must be A, B or C")
        out.append(Rule(r["name"], tuple(r["keywords"]), r.get("priority"), r.get("category")))
    return tuple(out)


def classify(description: str, category: str | None, priority: str | None,
             rules: tuple[Rule, ...] = DEFAULT_RULES) -> Classification:
    """Fill in what the request left out. Given values always win; the first matching rule
    decides the rest; otherwise ``fault`` / ``C``."""
    text = description.lower()
    decided_by = []
    for rule in rules:
        if any(k.lower() in text for k in rule.keywords):
            if category is None and rule.category:
                category = rule.category
                decided_by.append(f"category:{rule.name}")
            if priority is None and rule.priority:
                priority = rule.priority
                decided_by.append(f"priority:{rule.name}")
        if category is not None and priority is not None:
            break
    if category is None:
        category, _ = "fault", decided_by.append("category:default")
    if priority is None:
        priority, _ = "C", decided_by.append("priority:default")
    return Classification(priority, category, ",".join(decided_by) or "given")


# -- warranty -------------------------------------------------------------------------------
DEFAULT_TERMS_MONTHS = {
    "main_structure": 120,
    "water_electrical": 24,
    "decoration": 12,
    "other": 12,
    "replaced_part": 3,   # a part replaced under service carries 3 months of its own
}


def replaced_part_starts_on(fitted_at: datetime, tz: str) -> date:
    """A part fitted under service: its own warranty starts on the branch-local date (in the
    branch's time zone ``tz``) of the instant it was fitted, not on the UTC date."""
    return local_date(fitted_at, tz)


def add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class AssetRecord:
    serial_no: str
    model: str
    component_category: str
    acceptance_date: date
    manufacturer_term_months: int | None = None
    branch: str | None = None
    customer: str | None = None
    site: str | None = None
    project: str | None = None


@dataclass(frozen=True)
class WarrantyDecision:
    status: str                 # in_warranty | expired | unknown_asset
    ends_on: date | None = None
    component_category: str | None = None

    def as_dict(self) -> dict:
        return {"status": self.status, "ends_on": iso(self.ends_on),
                "component_category": self.component_category}


def warranty_for(asset: AssetRecord | None, on: date,
                 terms: dict[str, int] | None = None) -> WarrantyDecision:
    if asset is None:
        return WarrantyDecision("unknown_asset")
    terms = {**DEFAULT_TERMS_MONTHS, **(terms or {})}
    if asset.component_category == "equipment":
        months = asset.manufacturer_term_months or terms["other"]
    else:
        months = terms.get(asset.component_category, terms["other"])
    ends = add_months(asset.acceptance_date, months)
    return WarrantyDecision("in_warranty" if on <= ends else "expired", ends,
                            asset.component_category)


# -- the ticket's two states ---------------------------------------------------------------------
# ``intake_state`` is what the service desk decided (INTAKE_STATES): open, linked to another open
# ticket of the same asset, resolved remotely, or cancelled; only intake's own commands set it.
# ``status`` is the ticket's overall state, the one customers and agents see and lists filter
# on: derived from the ``intake_state`` and the job's work status (``status_of``). The work
# status is the job's LATEST state: the state event that occurred last (by its ``occurred_at``,
# not by when it arrived) decides, so a job can move back (declined, reassigned, reworked).
STATUS_BY_EVENT = {
    "engineer_assigned": "assigned",      # also a (manual) reassignment, from any step
    "job_declined": "open",               # declined or not accepted in time: waiting for an engineer
    "assignment_failed": "escalated",     # nobody could take it: escalated, still unassigned
    "job_accepted": "accepted",
    "appointment_set": "scheduled",
    "engineer_en_route": "en_route",
    "engineer_checked_in": "on_site",
    "job_diagnosed": "diagnosed",
    "quote_issued": "quoted",
    "job_completed": "completed",
    "job_rework": "rework",               # the customer rejected the sign-off
    "job_closed": "closed",
    "survey_issued": "closed",            # feedback issues the survey when the job is closed
}
TERMINAL_WORK_STATUSES = ("closed",)      # a closed job never reopens: later events are history
INTAKE_STATES = ("open", "linked", "resolved", "cancelled")
FINAL_STATUSES = ("completed", "closed", "resolved", "cancelled")
OPEN_STATUSES = ("open", "linked", "escalated", "assigned", "accepted", "scheduled", "en_route",
                 "on_site", "diagnosed", "quoted", "rework")   # every status that is not final


def work_status(events: Iterable[tuple[datetime, str]]) -> str:
    """The job's status from its ``(occurred_at, type)`` events: the state of the last state
    event by ``occurred_at`` (equal times keep the given order, i.e. arrival), except that once
    the job is closed nothing moves it. Events that are not states (parts, SLA, contacts,
    intake's own) leave it unchanged."""
    status = "open"
    for _, type_ in sorted(events, key=lambda e: e[0]):
        if status in TERMINAL_WORK_STATUSES:
            break
        status = STATUS_BY_EVENT.get(type_, status)
    return status


def status_of(intake_state: str, events: Iterable[tuple[datetime, str]]) -> str:
    """The ticket's ``status`` (what customers and agents see) from the desk's ``intake_state``
    and the job's work status; ``events`` are the timeline's ``(occurred_at, type)`` pairs, in
    any order. A resolved or cancelled ticket shows that; a linked one shows ``linked`` until
    work on it starts."""
    if intake_state in ("resolved", "cancelled"):
        return intake_state
    work = work_status(events)
    if intake_state == "linked" and work == "open":
        return "linked"
    return work


class TransitionError(Exception):
    """A desk action is not allowed in the ticket's current state (the ``check_*`` rules: most
    look at the ``status``, a split at the ``intake_state``)."""


def check_cancel(status: str) -> None:
    if status in FINAL_STATUSES:
        raise TransitionError(f"the ticket is {status}: it can no longer be cancelled")


def check_resolve(status: str) -> None:
    if status not in ("open", "escalated", "linked"):
        raise TransitionError(f"the ticket is {status}: only a ticket nobody has accepted yet "
                              "can be resolved remotely")


def check_reclassify(status: str) -> None:
    if status in FINAL_STATUSES:
        raise TransitionError(f"the ticket is {status}: it can no longer be reclassified")


def check_contact(status: str) -> None:
    if status == "cancelled":
        raise TransitionError("the ticket is cancelled")


def check_split(intake_state: str) -> None:
    if intake_state != "linked":
        raise TransitionError("only a linked ticket can be split off")


@dataclass
class Ticket:
    ticket_no: str
    branch: str
    source: str
    request_id: str
    channel: str
    received_at: datetime
    priority: str
    category: str
    classification_rule: str
    warranty: WarrantyDecision
    request: dict = field(default_factory=dict)   # the validated request as received
    status: str = "open"          # the overall state, derived (status_of)
    intake_state: str = "open"    # what the service desk decided (INTAKE_STATES)
    linked_to: str | None = None


# -- the bounds of a request's times ------------------------------------------------------------
RECEIVED_MAX_AGE = timedelta(days=365)      # a call taken longer ago than this is refused
RECEIVED_MAX_AHEAD = timedelta(hours=1)     # clock skew allowed for a call "in the future"
EXPECTED_MAX_AHEAD = timedelta(days=730)    # the customer's expected date, at most 2 years on


def time_errors(received_at: datetime | None, expected_by: datetime | None, now: datetime,
                max_age: timedelta = RECEIVED_MAX_AGE) -> list[dict]:
    """``{field, message}`` for a ``received_at`` outside ``[now - max_age, now + 1 h]`` and an
    ``expected_by`` outside ``[now - max_age, now + 2 years]`` (``now`` is the caller's clock).
    Times outside the window (year 1, year 9999) cannot be numbered, clocked or dispatched."""
    errors = []
    for field_name, value, ahead in (("received_at", received_at, RECEIVED_MAX_AHEAD),
                                     ("expected_by", expected_by, EXPECTED_MAX_AHEAD)):
        if value is None:
            continue
        earliest, latest = now - max_age, now + ahead
        try:
            inside = earliest <= value <= latest
        except OverflowError:
            inside = False
        if not inside:
            errors.append({"field": field_name, "message": (
                f"must be between {earliest.isoformat(timespec='seconds')} and "
                f"{latest.isoformat(timespec='seconds')} (at most {max_age.days} days ago and "
                f"{_span(ahead)} ahead)")})
    return errors


def _span(delta: timedelta) -> str:
    if delta >= timedelta(days=1):
        return f"{delta.days} days"
    return f"{int(delta.total_seconds() // 3600)} hour(s)"
