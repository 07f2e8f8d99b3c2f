"""Waiting for a state that has no event to wait on (a row in a database, a parked message)."""
from __future__ import annotations

import time


def wait_until(probe, timeout: float = 15.0, interval: float = 0.05, what: str = "condition"):
    """Call ``probe`` until it returns something truthy; return that, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)  # ok: bounded polling of external state, not a fixed wait
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last value: {last!r}")
