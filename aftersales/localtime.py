"""A branch's local calendar: the local date and month of an instant, and a local month as a
window of instants. Pure (no framework imports): the services' domains use it, always with
the branch's time zone given explicitly (``timezone`` in ``deploy/reference/branches.json``).
"""
from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

_MONTH = re.compile(r"(\d{4})-(\d{2})")


def local_date(at: datetime, tz: str) -> date:
    """The calendar date of the instant ``at`` in the time zone ``tz``."""
    return at.astimezone(ZoneInfo(tz)).date()


def month_of(at: datetime, tz: str) -> str:
    """``YYYY-MM`` of the instant ``at`` in the time zone ``tz``."""
    local = at.astimezone(ZoneInfo(tz))
    return f"{local.year:04d}-{local.month:02d}"


def month_window(month: str, tz: str) -> tuple[datetime, datetime]:
    """``"2026-11"`` -> [start, end): the month's first instant and the next month's, aware,
    in the time zone ``tz``. ValueError (naming the expected form) when ``month`` is not a
    real month ``YYYY-MM`` of the years 2000-2100."""
    m = _MONTH.fullmatch(month or "") if isinstance(month, str) else None
    year, mon = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    if not (2000 <= year <= 2100 and 1 <= mon <= 12):
        raise ValueError(f"month must be YYYY-MM; got {month!r}")
    zone = ZoneInfo(tz)
    end_year, end_mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
    return datetime(year, mon, 1, tzinfo=zone), datetime(end_year, end_mon, 1, tzinfo=zone)


def iso(at: datetime | None) -> str | None:
    """An instant as ISO-8601 text for a view or an event, None as None."""
    return at.isoformat() if at is not None else None
