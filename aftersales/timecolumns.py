"""``UTCDateTime``: the one column type for a point in time, in every table of every service.

The database type is ``DateTime(timezone=True)`` (PostgreSQL ``timestamptz``; SQLite text),
so migrations need no change. On write an aware datetime is converted to UTC (SQLite, which
keeps no offset, gets the naive UTC wall time); a naive datetime is refused with a clear
error, because its zone is unknown (a bug to fix at the boundary that parsed it, not a value
to guess). On read the value comes back aware, in UTC, on both backends.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.types import DateTime, TypeDecorator

UTC = timezone.utc


class NaiveDateTimeError(ValueError):
    """A datetime without a UTC offset was about to be stored."""


class UTCDateTime(TypeDecorator):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"a point in time must be a datetime, not {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDateTimeError(
                f"refusing to store the naive datetime {value.isoformat()}: give it a UTC offset")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:   # SQLite: stored as naive UTC
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
