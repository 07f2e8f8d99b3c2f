"""Per container: is the service's database answering, and how many messages may be handled at
once.

- **Database gate.** When a handler fails because the database is unreachable, the gate
  closes: one green thread probes the database (``probe``, set by the ``Store``) with capped
  back-off and opens the gate when it answers. Until then no consumer starts a worker: messages
  already delivered wait unacknowledged, and the broker delivers no more than the prefetch, so
  the backlog stays in its queue, in order, instead of burning through retries into parking.
- **Message budget.** At most ``message_workers`` messages are handled at once (the consumers'
  prefetch is the same number), below ``max_workers``: the rest of the worker pool is kept for
  HTTP requests and timers, which a burst of messages can therefore not starve.
"""
from __future__ import annotations

import logging
import threading
import time

from nameko.extensions import SharedExtension

from .failures import backoff

log = logging.getLogger(__name__)


def message_workers(config) -> int:
    max_workers = int(config.get("max_workers", 10))
    configured = config.get("AFTERSALES", {}).get("message_workers")
    if configured:
        return max(1, min(int(configured), max_workers))
    return max(1, max_workers - max(2, max_workers // 3))


class Availability(SharedExtension):
    def __init__(self):
        super().__init__()
        self.probe = None                 # callable() -> None, raises while the database is down
        self.down_since: float | None = None
        self._up = threading.Event()      # green under eventlet.monkey_patch()
        self._up.set()
        self._probing = False
        self.stopped = False
        self.budget = None
        self.consumer_connected: bool | None = None   # None: the container consumes nothing

    def setup(self):
        self.limit = message_workers(self.container.config)
        self.budget = threading.BoundedSemaphore(self.limit)
        settings = self.container.config.get("AFTERSALES", {})
        self.backoff_max = float(settings.get("transient_backoff_max_s", 30.0))

    # -- the database gate ----------------------------------------------------------------
    @property
    def database_up(self) -> bool:
        return self._up.is_set()

    def database_failed(self, exc) -> None:
        """A handler could not reach the database: close the gate and start probing."""
        if self.probe is None or self.stopped:
            return
        if self._up.is_set():
            self.down_since = time.monotonic()
            self._up.clear()
            log.warning("database unavailable (%s): pausing message handling until it answers",
                        str(exc).splitlines()[0][:200])
        if not self._probing:
            self._probing = True
            self.container.spawn_managed_thread(self._probe_until_up,
                                                identifier="availability.database_probe")

    def _probe_until_up(self) -> None:
        n = 0
        try:
            while not self.stopped:
                self._up.wait(backoff(n, cap=self.backoff_max))   # woken early on stop only
                if self.stopped or self._up.is_set():
                    return
                try:
                    self.probe()
                except Exception as exc:
                    n += 1
                    log.info("database still unavailable (%s)", str(exc).splitlines()[0][:200])
                    continue
                down = time.monotonic() - (self.down_since or time.monotonic())
                log.warning("database answers again after %.1fs: resuming message handling", down)
                self.down_since = None
                self._up.set()
                return
        finally:
            self._probing = False

    def wait_for_database(self) -> None:
        self._up.wait()

    # -- the message budget ---------------------------------------------------------------
    def acquire(self) -> None:
        self.budget.acquire()

    def release(self) -> None:
        try:
            self.budget.release()
        except ValueError:   # released more often than acquired: a bug, but never fatal
            log.error("message budget released twice")

    def stop(self):
        self.stopped = True
        self._up.set()

    def kill(self):
        self.stop()
