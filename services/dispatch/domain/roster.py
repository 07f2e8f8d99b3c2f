"""Reading roster fields as people write them (CSV import, HTTP): skills with levels, shifts,
leave. Pure: returns values or raises ValueError with a message fit for a report of bad rows.

- skills: ``fault:3;main_structure:2;maintenance`` (level 1–5, default 1)
- shift:  ``mon-fri 08:30-12:00,13:00-17:30; sat 09:00-12:00`` (empty: on call round the clock;
  ``22:00-06:00`` runs overnight)
- leave:  ``2026-11-24..2026-11-26; 2026-12-01`` (dates in the branch's time zone, inclusive)
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .policy import DAYS


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
        out.append((datetime.combine(first, time(0), zone),
                    datetime.combine(last + timedelta(days=1), time(0), zone)))
    return tuple(out)


def calendar_doc(cal) -> dict | None:
    """The shift document of a shift calendar (inverse of ``policy.shift_calendar``)."""
    if cal is None:
        return None
    return {DAYS[d]: [[a.strftime("%H:%M"), b.strftime("%H:%M")] for a, b in spans]
            for d, spans in sorted(cal.week.items())}
