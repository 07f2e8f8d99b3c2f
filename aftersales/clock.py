"""The platform's one clock: "now" as an aware UTC datetime, for every service.

Production reads the system clock. Tests inject another clock with ``set_clock`` so that
nothing depends on the day the suite runs: ``running_from(instant)`` starts at a fixed instant
and moves on with real time (timers, expiries and waits still work); ``fixed(instant)`` stands
still. Local dates are never taken from here directly: convert ``utcnow()`` to the branch's
time zone where a local date is needed (see docs/architecture.md, "Time").
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Callable

UTC = timezone.utc
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


_clock: Clock = system_clock


def utcnow() -> datetime:
    """Now, aware, in UTC, from the clock in force."""
    return _clock().astimezone(UTC)


def set_clock(clock: Clock | None) -> None:
    """Use ``clock`` for ``utcnow()`` in this process (``None``: the system clock again)."""
    global _clock
    _clock = clock or system_clock


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("a clock needs an aware instant (with its UTC offset)")
    return instant.astimezone(UTC)


def fixed(instant: datetime) -> Clock:
    """A clock that always says ``instant``."""
    at = _aware(instant)
    return lambda: at


def running_from(instant: datetime) -> Clock:
    """A clock that says ``instant`` now and runs on at the real pace from there."""
    at, started = _aware(instant), time.monotonic()
    return lambda: at + timedelta(seconds=time.monotonic() - started)
