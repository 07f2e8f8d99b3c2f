"""SLA clocks: deadlines and elapsed time per stage, on 24×7 or branch working-hours clocks,
with holidays, make-up working days, overnight working hours, time zones and pauses.

Pure Python (``zoneinfo`` only). All arithmetic is done in UTC; calendars are read in the
branch's own time zone.

Targets (PRODUCT.md, "Priorities and default SLA targets"), measured from ``received_at``:

| priority | response | dispatch | arrival | resolution | clock |
|---|---|---|---|---|---|
| A | 1 h | 2 h | 12 h | 24 h | 24×7 |
| B | 1 h | 4 h | 24 h | 72 h | 24×7 |
| C | 24 h | 24 h | 48 h | 3 working days | working hours |

On the working-hours clock every 24 h of target is one working day, i.e. the branch's standard
working-day length of working time (8 h for 08:30–12:00 + 13:00–17:30).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterable, Iterator
from zoneinfo import ZoneInfo

UTC = timezone.utc
STAGES = ("response", "dispatch", "arrival", "resolution")
HOUR = 3600
AT_RISK_FRACTION = 0.8
HORIZON_DAYS = 800   # no deadline is searched further than this


Span = tuple[time, time]          # local start, end; end <= start means it ends the next day
Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class Calendar:
    """A branch's working calendar."""
    tz: str = "Asia/Shanghai"
    week: dict[int, tuple[Span, ...]] = field(default_factory=lambda: {
        d: ((time(8, 30), time(12, 0)), (time(13, 0), time(17, 30))) for d in range(5)})
    holidays: frozenset[date] = frozenset()
    makeup_days: frozenset[date] = frozenset()    # weekend days worked (调休上班)
    makeup_spans: tuple[Span, ...] | None = None   # default: Monday's hours

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def spans_on(self, d: date) -> tuple[Span, ...]:
        if d in self.holidays:
            return ()
        if d in self.makeup_days:
            return self.makeup_spans if self.makeup_spans is not None else self.week.get(0, ())
        return self.week.get(d.weekday(), ())

    @property
    def standard_day_seconds(self) -> float:
        """Length of a standard working day (the longest weekday's hours, overlaps once)."""
        return max((sum(b - a for a, b in merge_spans(spans)) for spans in self.week.values()),
                   default=0.0)

    def working_intervals(self, start: datetime) -> Iterator[Interval]:
        """Working intervals in UTC, in time order and disjoint, from ``start`` on (clipped
        to start). Spans listed out of order are sorted; overlapping ones (also an overnight
        span running into the next day's hours) are merged, so no minute counts twice. A span
        belongs to the day it starts on (that day's holiday or make-up rule applies)."""
        zone = self.zone
        day = start.astimezone(zone).date() - timedelta(days=1)   # overnight spans of the day before
        pending: list[Interval] = []      # may still overlap a later day's first hours
        for _ in range(HORIZON_DAYS):
            for s, e in self.spans_on(day):
                a = datetime.combine(day, s, zone)
                b = datetime.combine(day + timedelta(days=1) if e <= s else day, e, zone)
                pending.append((a.astimezone(UTC), b.astimezone(UTC)))
            day += timedelta(days=1)
            # every later day's interval starts at or after that day's midnight
            horizon = datetime.combine(day, time(0), zone).astimezone(UTC)
            held = []
            for a, b in _merge(pending):
                if b > horizon:
                    held.append((a, b))
                elif b > start:
                    yield max(a, start), b
            pending = held


def _merge(intervals):
    out: list = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _secs(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def merge_spans(spans: Iterable[Span]) -> list[tuple[int, int]]:
    """A day's spans as seconds from its midnight (an overnight span ends after 86400),
    sorted, overlapping and touching ones merged."""
    return _merge((_secs(s), _secs(e) + (86400 if e <= s else 0)) for s, e in spans)


ALWAYS = None   # a clock of None runs 24×7


def _running(start: datetime, calendar: Calendar | None) -> Iterator[Interval]:
    if calendar is None:
        yield start, start + timedelta(days=HORIZON_DAYS)
    else:
        yield from calendar.working_intervals(start)


def _subtract(intervals: Iterable[Interval], pauses: list[tuple[datetime, datetime | None]]
              ) -> Iterator[Interval]:
    """Intervals minus pauses (a pause with no end runs for ever)."""
    ps = sorted((p, q or datetime.max.replace(tzinfo=UTC)) for p, q in pauses)
    for a, b in intervals:
        cur = a
        for p, q in ps:
            if q <= cur or p >= b:
                continue
            if p > cur:
                yield cur, p
            cur = max(cur, q)
            if cur >= b:
                break
        if cur < b:
            yield cur, b


def add_clock_time(start: datetime, seconds: float, calendar: Calendar | None,
                   pauses: list[tuple[datetime, datetime | None]] = ()) -> datetime | None:
    """The moment ``seconds`` of running clock time have passed since ``start``; ``None``
    while an open-ended pause stops the clock before that."""
    start = start.astimezone(UTC)
    left = float(seconds)
    for a, b in _subtract(_running(start, calendar), list(pauses)):
        length = (b - a).total_seconds()
        if length >= left:
            return a + timedelta(seconds=left)
        left -= length
    return None


def clock_seconds(start: datetime, end: datetime, calendar: Calendar | None,
                  pauses: list[tuple[datetime, datetime | None]] = ()) -> float:
    """Running clock time between ``start`` and ``end``."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    total = 0.0
    for a, b in _subtract(_running(start, calendar), list(pauses)):
        if a >= end:
            break
        total += (min(b, end) - a).total_seconds()
    return total


@dataclass(frozen=True)
class Target:
    hours: float
    working: bool = False      # on the branch's working-hours clock

    def clock_seconds(self, calendar: Calendar) -> float:
        if not self.working:
            return self.hours * HOUR
        return self.hours / 24.0 * calendar.standard_day_seconds


DEFAULT_TARGETS: dict[str, dict[str, Target]] = {
    "A": {"response": Target(1), "dispatch": Target(2), "arrival": Target(12), "resolution": Target(24)},
    "B": {"response": Target(1), "dispatch": Target(4), "arrival": Target(24), "resolution": Target(72)},
    "C": {"response": Target(24, True), "dispatch": Target(24, True), "arrival": Target(48, True),
          "resolution": Target(72, True)},
}
