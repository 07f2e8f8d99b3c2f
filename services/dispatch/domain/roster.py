"""The roster: engineers and supervisors, what a job needs of them, choosing one for a job
(ranking, escalation when nobody can take it, a dispatcher's manual choice), and reading roster
fields as people write them (CSV import, HTTP): skills with levels, shifts, leave. Pure:
returns values or raises ValueError with a message fit for a report of bad rows.

- skills: ``fault:3;main_structure:2;maintenance`` (level 1–5, default 1)
- shift:  ``mon-fri 08:30-12:00,13:00-17:30; sat 09:00-12:00`` (empty: on call round the clock;
  ``22:00-06:00`` runs overnight)
- leave:  ``2026-11-24..2026-11-26; 2026-12-01`` (dates in the branch's time zone, inclusive)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Iterable, Mapping
from zoneinfo import ZoneInfo

from .policy import DAYS
from .sla import Calendar

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


def manual_assignment(engineer: Engineer, workload: int, reason: str,
                      ranking: tuple[Candidate, ...] = ()) -> Assignment:
    """A dispatcher's choice; the reason is theirs."""
    c = Candidate(engineer.engineer_id, engineer.name, engineer.skills, workload,
                  engineer.max_jobs, branch=engineer.branch)
    return Assignment(c, None, reason, ranking)


# -- reading roster fields ------------------------------------------------------------------


def parse_skills(text: str) -> tuple[tuple[str, ...], dict[str, int]]:
    skills, levels = [], {}
    for part in (text or "").replace(",", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        name, _, level = part.partition(":")
        name = name.strip()
        if not name:
            raise ValueError(f"skills: empty skill name in {part!r}")
        if level.strip():
            try:
                lv = int(level)
            except ValueError:
                raise ValueError(f"skills: level of {name!r} must be 1-5, not {level.strip()!r}") from None
            if not 1 <= lv <= 5:
                raise ValueError(f"skills: level of {name!r} must be 1-5, not {lv}")
            levels[name] = lv
        if name not in skills:
            skills.append(name)
    return tuple(skills), levels


def _hhmm(text: str) -> str:
    t = text.strip()
    try:
        h, m = t.split(":")
        time(int(h) % 24, int(m))
    except ValueError:
        raise ValueError(f"shift: {text!r} is not HH:MM") from None
    return f"{int(h):02d}:{int(m):02d}"


def _days(text: str) -> list[str]:
    out = []
    for piece in text.lower().split(","):
        a, _, b = piece.strip().partition("-")
        if a not in DAYS or (b and b not in DAYS):
            raise ValueError(f"shift: {piece.strip()!r} is not a day or range of {'/'.join(DAYS)}")
        i, j = DAYS.index(a), DAYS.index(b) if b else DAYS.index(a)
        out.extend(DAYS[k % 7] for k in range(i, (j if j >= i else j + 7) + 1))
    return out


def parse_shift(text: str) -> dict | None:
    """A shift document ``{"mon": [["08:30", "17:30"]], ...}``, or None (on call)."""
    text = (text or "").strip()
    if not text:
        return None
    doc: dict[str, list] = {}
    for group in text.split(";"):
        group = group.strip()
        if not group:
            continue
        days, _, hours = group.partition(" ")
        if not hours.strip():
            raise ValueError(f"shift: {group!r} needs days and hours, e.g. 'mon-fri 08:30-17:30'")
        spans = []
        for span in hours.split(","):
            a, sep, b = span.strip().partition("-")
            if not sep:
                raise ValueError(f"shift: {span.strip()!r} is not HH:MM-HH:MM")
            spans.append([_hhmm(a), _hhmm(b)])
        for d in _days(days):
            doc.setdefault(d, []).extend(spans)
    return doc


LEAVE_DATES = (date(1900, 1, 1), date(9998, 12, 31))   # their instants exist in UTC too


def parse_leave(text: str, tz: str = "Asia/Shanghai") -> tuple[tuple[datetime, datetime], ...]:
    """Whole days of leave, as [start of first day, start of the day after the last) in ``tz``."""
    zone = ZoneInfo(tz)
    out = []
    for part in (text or "").split(";"):
        part = part.strip()
        if not part:
            continue
        a, _, b = part.partition("..")
        try:
            first, last = date.fromisoformat(a.strip()), date.fromisoformat((b or a).strip())
        except ValueError:
            raise ValueError(f"leave: {part!r} is not YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD") from None
        if last < first:
            raise ValueError(f"leave: {part!r} ends before it starts")
        if first < LEAVE_DATES[0] or last > LEAVE_DATES[1]:
            raise ValueError(f"leave: {part!r} is not between {LEAVE_DATES[0]} and "
                             f"{LEAVE_DATES[1]}")
        out.append((datetime.combine(first, time(0), zone),
                    datetime.combine(last + timedelta(days=1), time(0), zone)))
    return tuple(out)


def calendar_doc(cal) -> dict | None:
    """The shift document of a shift calendar (inverse of ``policy.shift_calendar``)."""
    if cal is None:
        return None
    return {DAYS[d]: [[a.strftime("%H:%M"), b.strftime("%H:%M")] for a, b in spans]
            for d, spans in sorted(cal.week.items())}
