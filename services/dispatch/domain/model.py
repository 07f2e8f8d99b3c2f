"""Dispatch's domain: the roster, choosing an engineer for a job, the job's state machine.

Pure Python: no framework, database or broker imports.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Iterable, Mapping

from aftersales.money import money, money_text

from .sla import Calendar

# -- job states -----------------------------------------------------------------------------
(ASSIGNED, ESCALATED, ACCEPTED, SCHEDULED, EN_ROUTE, ON_SITE, DIAGNOSED, QUOTED, IN_PROGRESS,
 COMPLETED, REWORK, CLOSED, CANCELLED) = (
    "assigned", "escalated", "accepted", "scheduled", "en_route", "on_site", "diagnosed",
    "quoted", "in_progress", "completed", "rework", "closed", "cancelled")
STATES = (ASSIGNED, ESCALATED, ACCEPTED, SCHEDULED, EN_ROUTE, ON_SITE, DIAGNOSED, QUOTED,
          IN_PROGRESS, COMPLETED, REWORK, CLOSED, CANCELLED)
OPEN_STATES = tuple(s for s in STATES if s not in (CLOSED, CANCELLED))
# count against the engineer's capacity (a completed job waits for the customer, not for him)
BUSY_STATES = (ASSIGNED, ACCEPTED, SCHEDULED, EN_ROUTE, ON_SITE, DIAGNOSED, QUOTED, IN_PROGRESS,
               REWORK)
ON_SITE_STATES = (ON_SITE, DIAGNOSED, QUOTED, IN_PROGRESS)   # daily progress reports due
REASSIGNABLE = (ASSIGNED, ESCALATED, ACCEPTED, SCHEDULED, EN_ROUTE, REWORK)

ENGINEER, SUPERVISOR = "engineer", "supervisor"
HQ_ESCALATION = "HQ"   # escalated_to when a branch has no supervisor on the roster
URGENT = ("A", "B")


# -- the roster -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Engineer:
    engineer_id: str
    name: str
    branch: str
    skills: tuple[str, ...] = ()          # categories and product lines the person handles
    active: bool = True
    max_jobs: int = 3                     # concurrent open jobs
    role: str = ENGINEER                  # engineer | supervisor
    zone: str | None = None               # home zone (a district named in site addresses)
    levels: Mapping[str, int] = field(default_factory=dict)   # skill -> level 1..5 (default 1)
    shift: Calendar | None = None         # working hours; None: on call round the clock
    leave: tuple[tuple[datetime, datetime], ...] = ()

    def level(self, skill: str) -> int:
        return int(self.levels.get(skill, 1)) if skill in self.skills else 0

    def on_leave(self, now: datetime | None) -> bool:
        return now is not None and any(a <= now < b for a, b in self.leave)

    def on_shift(self, now: datetime | None) -> bool:
        if now is None or self.shift is None:
            return True
        first = next(iter(self.shift.working_intervals(now)), None)
        return first is not None and first[0] <= now


@dataclass(frozen=True)
class Needs:
    """What a job asks of an engineer: its category and, when known, its product line
    (the asset's component category, e.g. ``main_structure``)."""
    category: str
    product_line: str | None = None

    def as_tuple(self) -> tuple[str, ...]:
        return tuple(n for n in (self.category, self.product_line) if n)


# -- choosing an engineer ---------------------------------------------------------------------
@dataclass(frozen=True)
class Candidate:
    engineer_id: str
    name: str
    matched: tuple[str, ...]
    open_jobs: int
    max_jobs: int
    level: int = 0              # sum of the matched skills' levels
    on_shift: bool = True
    on_leave: bool = False
    zone_match: bool = False
    branch: str | None = None

    @property
    def has_capacity(self) -> bool:
        return self.open_jobs < self.max_jobs

    @property
    def can_take(self) -> bool:
        return self.has_capacity and not self.on_leave

    @property
    def workload(self) -> str:
        return f"{self.open_jobs}/{self.max_jobs}"

    def as_dict(self) -> dict:
        return {"engineer_id": self.engineer_id, "name": self.name, "matched": list(self.matched),
                "open_jobs": self.open_jobs, "max_jobs": self.max_jobs,
                "has_capacity": self.has_capacity, "level": self.level,
                "on_shift": self.on_shift, "on_leave": self.on_leave,
                "zone_match": self.zone_match, "branch": self.branch}


def _key(priority: str):
    """A/B need someone now and near: availability and zone before skill depth; C: skill
    depth first. Always: more skills matched, able to take it (not on leave, free capacity)."""
    if priority in URGENT:
        return lambda c: (-len(c.matched), not c.can_take, not c.on_shift, not c.zone_match,
                          c.open_jobs, -c.level, c.engineer_id)
    return lambda c: (-len(c.matched), not c.can_take, -c.level, not c.on_shift,
                      not c.zone_match, c.open_jobs, c.engineer_id)


def rank(roster: Iterable[Engineer], workload: Mapping[str, int], needs: Needs,
         now: datetime | None = None, priority: str = "C", site: str = "",
         exclude: Iterable[str] = ()) -> list[Candidate]:
    """The active engineers (minus ``exclude``), best first: more skills matched; then those
    who can take the job (not on leave, open jobs < max); then for A/B on shift now, in the
    site's zone, fewest open jobs, higher skill level; for C higher skill level, on shift, zone,
    fewest open jobs; finally the engineer id (stable)."""
    wanted = needs.as_tuple()
    excluded = set(exclude)
    candidates = [
        Candidate(e.engineer_id, e.name, tuple(n for n in wanted if n in e.skills),
                  workload.get(e.engineer_id, 0), e.max_jobs,
                  level=sum(e.level(n) for n in wanted), on_shift=e.on_shift(now),
                  on_leave=e.on_leave(now), zone_match=bool(e.zone and site and e.zone in site),
                  branch=e.branch)
        for e in roster if e.role == ENGINEER and e.active and e.engineer_id not in excluded
    ]
    return sorted(candidates, key=_key(priority))


@dataclass(frozen=True)
class Assignment:
    """The outcome of assigning one job: an engineer, or an escalation, and why."""
    engineer: Candidate | None
    escalated_to: str | None
    reason: str
    ranking: tuple[Candidate, ...]
    offered: tuple[Candidate, ...] = ()    # free engineers of neighbouring branches

    @property
    def assigned(self) -> bool:
        return self.engineer is not None


def supervisor_of(roster: Iterable[Engineer]) -> Engineer | None:
    sups = sorted((e for e in roster if e.role == SUPERVISOR and e.active),
                  key=lambda e: e.engineer_id)
    return sups[0] if sups else None


def _why(best: Candidate, needs: Needs, free: int) -> str:
    if best.matched:
        skill = f"技能匹配 {'、'.join(best.matched)}"
        if best.level:
            skill += f"（等级 {best.level}）"
    else:
        skill = f"无匹配技能的空闲工程师（需要 {'、'.join(needs.as_tuple())}），按负载分配"
    extra = []
    if not best.on_shift:
        extra.append("当前不在班（无在班可接单人选）")
    if best.zone_match:
        extra.append("常驻片区与现场一致")
    return (f"{skill}；当前工单 {best.workload}" + "".join(f"；{x}" for x in extra)
            + f"；{free} 名可接单工程师中排名第一（技能匹配优先，其次在班、片区、工单最少，再按工号）")


def assign(roster: Iterable[Engineer], workload: Mapping[str, int], needs: Needs,
           now: datetime | None = None, priority: str = "C", site: str = "",
           exclude: Iterable[str] = (),
           neighbours: Iterable[Engineer] = (), neighbour_workload: Mapping[str, int] | None = None
           ) -> Assignment:
    """Pick the best-ranked engineer who can take the job; if nobody can, escalate to the
    branch supervisor (HQ when the branch has none) and offer the free engineers of the
    neighbouring branches. ``reason`` explains the decision."""
    roster = list(roster)
    ranking = tuple(rank(roster, workload, needs, now, priority, site, exclude))
    free = [c for c in ranking if c.can_take]
    if free:
        best = free[0]
        return Assignment(best, None, _why(best, needs, len(free)), ranking)

    sup = supervisor_of(roster)
    escalated_to = sup.engineer_id if sup else HQ_ESCALATION
    to = f"主管 {sup.name}（{sup.engineer_id}）" if sup else "总部"
    if ranking:
        def state(c):
            return f"{c.engineer_id} {'休假' if c.on_leave else c.workload}"
        full = "、".join(state(c) for c in ranking)
        why = f"无可接单工程师：在岗工程师均已满负荷或休假（{full}）"
    else:
        why = "无可接单工程师：本分公司没有在岗工程师"
    offered = tuple(c for c in rank(neighbours, neighbour_workload or {}, needs, now, priority,
                                     site, exclude) if c.can_take)[:3]
    offer = ("；可调派相邻分公司工程师 " + "、".join(f"{c.engineer_id}（{c.branch}）" for c in offered)
             if offered else "")
    return Assignment(None, escalated_to, f"{why}；已升级至{to}{offer}", ranking, offered)


# -- the job and its state machine ----------------------------------------------------------
class InvalidTransition(Exception):
    """The job is not in the state this step needs."""


class NoPartsPrices(ValueError):
    """A quote without materials, and no approved parts request to price them from."""


@dataclass(frozen=True)
class Step:
    action: str
    label: str                    # for messages
    from_states: tuple[str, ...]
    to_state: str


STEPS = {
    "accept": Step("accept", "accept", (ASSIGNED,), ACCEPTED),
    "decline": Step("decline", "decline", (ASSIGNED,), ASSIGNED),
    "schedule": Step("schedule", "agree an appointment for", (ACCEPTED, SCHEDULED, REWORK), SCHEDULED),
    "depart": Step("depart", "set out for", (ACCEPTED, SCHEDULED, REWORK), EN_ROUTE),
    "check_in": Step("check_in", "check in on", (ACCEPTED, SCHEDULED, EN_ROUTE, REWORK), ON_SITE),
    "diagnose": Step("diagnose", "diagnose", (ON_SITE, DIAGNOSED), DIAGNOSED),
    "quote": Step("quote", "quote for", (DIAGNOSED, QUOTED), QUOTED),
    "decide_quote": Step("decide_quote", "record the quote decision of", (QUOTED,), IN_PROGRESS),
    "complete": Step("complete", "complete", (ON_SITE, DIAGNOSED, IN_PROGRESS), COMPLETED),
    "sign_off": Step("sign_off", "sign off", (COMPLETED,), CLOSED),
    "report": Step("report", "report progress on", ON_SITE_STATES, ON_SITE),
    "reassign": Step("reassign", "reassign", REASSIGNABLE, ASSIGNED),
    "cancel": Step("cancel", "cancel", OPEN_STATES, CANCELLED),
}

CAUSES = ("design", "material", "workmanship", "installation", "misuse", "environment",
          "force_majeure")
VOIDING_CAUSES = ("misuse", "force_majeure")   # typical reasons a warranty is void


@dataclass(frozen=True)
class Diagnosis:
    cause: str
    responsibility: str
    warranty_void: bool = False
    void_reason: str | None = None
    findings: str | None = None

    def validate(self) -> list[dict]:
        errors = []
        if self.cause not in CAUSES:
            errors.append({"field": "cause", "message": f"must be one of {', '.join(CAUSES)}"})
        if not self.responsibility.strip():
            errors.append({"field": "responsibility", "message": "say who is responsible"})
        if self.warranty_void and not (self.void_reason or "").strip():
            errors.append({"field": "void_reason", "message": "a void warranty needs its reason"})
        return errors


ENTERED, FROM_PARTS = "entered", "parts_requests"     # where a quote's materials came from


@dataclass(frozen=True)
class Quote:
    materials: Decimal
    labour: Decimal
    travel: Decimal
    note: str | None = None
    materials_source: str = ENTERED           # entered | parts_requests
    parts_request_ids: tuple[str, ...] = ()   # the approved requests priced into materials

    @property
    def total(self) -> Decimal:
        return money(self.materials) + money(self.labour) + money(self.travel)

    def as_dict(self) -> dict:
        """Amounts as strings with two places (``"1200.50"``): exact in JSON, never a float."""
        return {"materials": money_text(self.materials), "labour": money_text(self.labour),
                "travel": money_text(self.travel), "total": money_text(self.total),
                "currency": "CNY", "note": self.note, "materials_source": self.materials_source,
                "parts_request_ids": list(self.parts_request_ids)}


# -- parts requests of the job (as the parts service reports them) ---------------------------
# requested → approved | rejected; approved → reserved (complete or not) / in_transit /
# backordered → shipped → delivered. The status is derived from the facts recorded, so
# events arriving out of order or twice end in the same state.
(PARTS_REQUESTED, PARTS_APPROVED, PARTS_REJECTED, PARTS_RESERVED, PARTS_IN_TRANSIT,
 PARTS_BACKORDERED, PARTS_SHIPPED, PARTS_DELIVERED) = (
    "requested", "approved", "rejected", "reserved", "in_transit", "backordered", "shipped",
    "delivered")


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None


def _waiting(items: dict) -> list[dict]:
    return [i for i in items.values() if not i.get("arrived")]


def _parts_status(r: dict) -> str:
    if r.get("rejected_at"):
        return PARTS_REJECTED
    if r.get("delivered_at"):
        return PARTS_DELIVERED
    if r.get("shipped_at"):
        return PARTS_SHIPPED
    if not r.get("complete"):
        if _waiting(r["backorders"]):
            return PARTS_BACKORDERED
        if _waiting(r["transfers"]):
            return PARTS_IN_TRANSIT
    if r.get("reserved"):
        return PARTS_RESERVED
    return PARTS_APPROVED if r.get("approved_at") else PARTS_REQUESTED


def _parts_expected(r: dict) -> str | None:
    """When the last part still on its way (transfer or backorder) is expected; None when
    nothing waits (everything reserved, or the request was rejected)."""
    if r.get("rejected_at") or r.get("complete"):
        return None
    times = [i["expected_at"] for i in (*_waiting(r["transfers"]), *_waiting(r["backorders"]))
             if i.get("expected_at")]
    return max(times, key=datetime.fromisoformat) if times else None


@dataclass
class Job:
    ticket_no: str
    branch: str
    priority: str
    category: str
    received_at: datetime
    status: str
    product_line: str | None = None
    engineer_id: str | None = None
    engineer_name: str | None = None
    escalated_to: str | None = None
    created_at: datetime | None = None
    assigned_at: datetime | None = None
    accepted_at: datetime | None = None
    checked_in_at: datetime | None = None
    completed_at: datetime | None = None
    summary: str | None = None
    parts_used: list[dict] = field(default_factory=list)
    in_warranty: bool | None = None      # None: the asset is unknown to the registry
    zone_hint: str | None = None
    appointment_from: datetime | None = None
    appointment_to: datetime | None = None
    en_route_at: datetime | None = None
    diagnosis: dict | None = None
    quote: dict | None = None
    signed_off_at: datetime | None = None
    closed_at: datetime | None = None
    cancelled_at: datetime | None = None
    visits: int = 0
    rework_count: int = 0
    declined_by: list[str] = field(default_factory=list)
    last_report_at: datetime | None = None
    report_reminded_at: datetime | None = None
    parts_requests: list[dict] = field(default_factory=list)   # see "parts requests" below

    @classmethod
    def open(cls, ticket_no: str, branch: str, priority: str, needs: Needs,
             received_at: datetime, assignment: Assignment, at: datetime,
             in_warranty: bool | None = None, zone_hint: str | None = None) -> "Job":
        eng = assignment.engineer
        return cls(ticket_no=ticket_no, branch=branch, priority=priority,
                   category=needs.category, product_line=needs.product_line,
                   received_at=received_at, status=ASSIGNED if eng else ESCALATED,
                   engineer_id=eng.engineer_id if eng else None,
                   engineer_name=eng.name if eng else None,
                   escalated_to=assignment.escalated_to, created_at=at,
                   assigned_at=at if eng else None, in_warranty=in_warranty,
                   zone_hint=zone_hint)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    @property
    def needs(self) -> Needs:
        return Needs(self.category, self.product_line)

    @property
    def chargeable(self) -> bool:
        """Paid work: out of warranty (expired), or the diagnosis found the warranty void. An
        asset unknown to the registry is treated as covered until the diagnosis says otherwise."""
        if self.diagnosis and self.diagnosis.get("warranty_void"):
            return True
        return self.in_warranty is False

    @property
    def quote_approved(self) -> bool:
        return bool(self.quote and self.quote.get("approved"))

    def _check(self, action: str) -> Step:
        step = STEPS[action]
        if self.status not in step.from_states:
            allowed = "' or '".join(step.from_states)
            raise InvalidTransition(
                f"cannot {step.label} job {self.ticket_no}: it is {self.status!r}; "
                f"only a job that is '{allowed}' can")
        return step

    def _move(self, action: str) -> None:
        self.status = self._check(action).to_state

    # the engineer's steps
    def accept(self, at: datetime) -> None:
        self._move("accept")
        self.accepted_at = at

    def decline(self, engineer_id: str) -> None:
        self._check("decline")
        if engineer_id not in self.declined_by:
            self.declined_by.append(engineer_id)

    def schedule(self, start: datetime, end: datetime) -> None:
        if end <= start:
            raise ValueError("the appointment window must end after it starts")
        self._move("schedule")
        self.appointment_from, self.appointment_to = start, end

    def depart(self, at: datetime) -> None:
        self._move("depart")
        self.en_route_at = at

    def check_in(self, at: datetime) -> bool:
        """True on the first visit (the arrival stage)."""
        self._move("check_in")
        first = self.checked_in_at is None
        if first:
            self.checked_in_at = at
        self.visits += 1
        self.last_report_at = at       # the daily report clock starts on site
        self.report_reminded_at = None
        return first

    def diagnose(self, d: Diagnosis) -> None:
        self._move("diagnose")
        self.diagnosis = {"cause": d.cause, "responsibility": d.responsibility,
                          "warranty_void": d.warranty_void, "void_reason": d.void_reason,
                          "findings": d.findings}
        self.quote = None

    def issue_quote(self, q: Quote, at: datetime) -> None:
        self._check("quote")
        if not self.chargeable:
            raise InvalidTransition(f"job {self.ticket_no} is free (in warranty): no quote")
        self.status = QUOTED
        self.quote = {**q.as_dict(), "issued_at": at.isoformat(), "approved": None}

    def quote_from_parts(self, labour, travel, note: str | None = None) -> Quote:
        """A quote whose materials are the parts service's prices of the job's approved parts
        requests (their ``chargeable_total``). InvalidTransition when the job cannot be quoted
        now; NoPartsPrices when no request is approved."""
        self._check("quote")
        if not self.chargeable:
            raise InvalidTransition(f"job {self.ticket_no} is free (in warranty): no quote")
        ids = self.approved_parts_request_ids
        if not ids:
            raise NoPartsPrices(f"is required: job {self.ticket_no} has no approved parts "
                                f"request to price the materials from")
        return Quote(self.parts_chargeable_total, money(labour), money(travel), note,
                     FROM_PARTS, tuple(ids))

    def decide_quote(self, approved: bool, at: datetime, by: str) -> None:
        self._check("decide_quote")
        self.quote = {**(self.quote or {}), "approved": approved, "decided_at": at.isoformat(),
                      "decided_by": by}
        self.status = IN_PROGRESS if approved else DIAGNOSED

    def complete(self, at: datetime, summary: str, parts_used: list[dict]) -> None:
        self._check("complete")
        if self.chargeable and not self.quote_approved:
            raise InvalidTransition(
                f"cannot complete job {self.ticket_no}: it is paid work and the customer has "
                f"not approved a quote; work starts only after the approval")
        self.status = COMPLETED
        self.completed_at, self.summary, self.parts_used = at, summary, list(parts_used)

    def sign_off(self, accepted: bool, at: datetime) -> None:
        """The customer's sign-off (验收): accepted closes the job, rejected sends it back to
        rework (the engineer comes again; the resolution clock keeps running)."""
        self._check("sign_off")
        if accepted:
            self.status, self.signed_off_at, self.closed_at = CLOSED, at, at
        else:
            self.status = REWORK
            self.rework_count += 1

    def report(self, at: datetime) -> None:
        self._check("report")
        self.last_report_at, self.report_reminded_at = at, None

    def report_overdue(self, now: datetime, interval_seconds: float) -> bool:
        """On site, and no progress report (nor reminder) for ``interval_seconds``."""
        if self.status not in ON_SITE_STATES or self.last_report_at is None:
            return False
        since = max(self.last_report_at, self.report_reminded_at or self.last_report_at)
        return (now - since).total_seconds() >= interval_seconds

    # the dispatcher's
    def reassign(self, a: Assignment, at: datetime) -> None:
        self._check("reassign")
        eng = a.engineer
        self.status = ASSIGNED if eng else ESCALATED
        self.engineer_id = eng.engineer_id if eng else None
        self.engineer_name = eng.name if eng else None
        self.escalated_to = a.escalated_to
        self.assigned_at = at if eng else None
        self.accepted_at = None
        self.appointment_from = self.appointment_to = self.en_route_at = None

    def cancel(self, at: datetime) -> None:
        self._move("cancel")
        self.cancelled_at = at

    def first_time_fix(self) -> bool:
        return self.rework_count == 0 and self.visits <= 1

    # parts requests, as the parts service reports them (each method is idempotent and the
    # result does not depend on the order the events arrive in)
    def _parts_request(self, request_id: str) -> dict:
        for r in self.parts_requests:
            if r["request_id"] == request_id:
                return r
        r = {"request_id": request_id, "status": PARTS_REQUESTED, "in_warranty": None,
             "approved_at": None, "approved_by": None, "auto_approved": None, "lines": [],
             "total": None, "chargeable_total": None, "rejected_at": None, "reason": None,
             "reserved": False, "complete": False, "transfers": {}, "backorders": {},
             "expected_at": None, "shipped_at": None, "delivered_at": None}
        self.parts_requests = [*self.parts_requests, r]
        return r

    def _parts_changed(self, r: dict) -> None:
        r["status"] = _parts_status(r)
        r["expected_at"] = _parts_expected(r)

    def parts_approved(self, request_id: str, at: datetime, lines: Iterable[Mapping],
                       total, chargeable_total, in_warranty: bool, approved_by: str = "",
                       auto_approved: bool = False) -> None:
        """Approved, with the parts' unit prices (CNY): what a paid job's quote charges."""
        r = self._parts_request(request_id)
        r.update(approved_at=_iso(at), approved_by=approved_by, auto_approved=auto_approved,
                 in_warranty=in_warranty, total=str(money(total)),
                 chargeable_total=str(money(chargeable_total)),
                 lines=[{"sku": ln["sku"], "name": ln.get("name"), "unit": ln.get("unit"),
                         "quantity": int(ln["quantity"]),
                         "unit_price": str(money(ln["unit_price"])),
                         "line_total": str(money(ln["line_total"]))} for ln in lines])
        self._parts_changed(r)

    def parts_rejected(self, request_id: str, at: datetime, reason: str) -> None:
        r = self._parts_request(request_id)
        r.update(rejected_at=_iso(at), reason=reason)
        self._parts_changed(r)

    def parts_reserved(self, request_id: str, complete: bool, transfer_id: str | None = None,
                       backorder_id: str | None = None) -> None:
        """Parts set aside in the branch warehouse; with ``transfer_id``/``backorder_id`` the
        transfer or backorder arrived. ``complete``: nothing of the request waits any more
        (sticky: a late event about a transfer or backorder cannot make it wait again)."""
        r = self._parts_request(request_id)
        r["reserved"] = True
        r["complete"] = bool(r["complete"] or complete)
        for items, key in ((r["transfers"], transfer_id), (r["backorders"], backorder_id)):
            if key:
                items.setdefault(key, {"expected_at": None})["arrived"] = True
        self._parts_changed(r)

    def parts_transfer_started(self, request_id: str, transfer_id: str,
                               expected_at: datetime) -> None:
        r = self._parts_request(request_id)
        item = r["transfers"].setdefault(transfer_id, {"arrived": False})
        item["expected_at"] = _iso(expected_at)
        self._parts_changed(r)

    def parts_backordered(self, request_id: str,
                          lines: Iterable[tuple[str, datetime]]) -> None:
        """``lines``: (backorder id, expected arrival) of each backordered line."""
        r = self._parts_request(request_id)
        for backorder_id, expected_at in lines:
            item = r["backorders"].setdefault(backorder_id, {"arrived": False})
            item["expected_at"] = _iso(expected_at)
        self._parts_changed(r)

    def parts_shipped(self, request_id: str, at: datetime) -> None:
        r = self._parts_request(request_id)
        if r["shipped_at"] is None or datetime.fromisoformat(r["shipped_at"]) < at:
            r["shipped_at"] = _iso(at)
        self._parts_changed(r)

    def parts_delivered(self, request_id: str, at: datetime) -> None:
        r = self._parts_request(request_id)
        if r["delivered_at"] is None or datetime.fromisoformat(r["delivered_at"]) < at:
            r["delivered_at"] = _iso(at)
        self._parts_changed(r)

    @property
    def approved_parts_request_ids(self) -> list[str]:
        return [r["request_id"] for r in self.parts_requests
                if r.get("approved_at") and not r.get("rejected_at")]

    @property
    def parts_chargeable_total(self) -> Decimal:
        """What the customer pays for the parts: the sum of the approved requests'
        ``chargeable_total`` (exact, two places)."""
        return sum((money(r["chargeable_total"]) for r in self.parts_requests
                    if r.get("approved_at") and not r.get("rejected_at")), money(0))

    @property
    def parts_expected_at(self) -> datetime | None:
        """The latest expected arrival of the parts still on their way (transfer or
        backorder); None when nothing waits."""
        times = [datetime.fromisoformat(r["expected_at"]) for r in self.parts_requests
                 if r.get("expected_at")]
        return max(times) if times else None


def manual_assignment(engineer: Engineer, workload: int, reason: str,
                      ranking: tuple[Candidate, ...] = ()) -> Assignment:
    """A dispatcher's choice; the reason is theirs."""
    c = Candidate(engineer.engineer_id, engineer.name, engineer.skills, workload,
                  engineer.max_jobs, branch=engineer.branch)
    return Assignment(c, None, reason, ranking)
