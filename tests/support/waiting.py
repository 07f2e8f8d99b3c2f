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


def handled(service: str, queue: str, outcomes=("ok", "duplicate")) -> float:
    """Messages a service (in this process) has finished with on a queue: acknowledged as
    handled or as an absorbed duplicate (see ``aftersales_messages_handled_total``)."""
    from prometheus_client import REGISTRY
    return sum(REGISTRY.get_sample_value("aftersales_messages_handled_total",
                                         {"service": service, "queue": queue, "outcome": o}) or 0
               for o in outcomes)


def wait_handled(service: str, queue: str, target: float, timeout: float = 15.0) -> None:
    """Wait until the service has acknowledged ``target`` messages on ``queue`` in all."""
    wait_until(lambda: handled(service, queue) >= target, timeout=timeout,
               what=f"{service} to acknowledge {target} message(s) on {queue}")
