"""The fan-out of live events inside one console process: the bus consumer
(``adapters/live_bus.py``) hands every event to :meth:`Hub.publish`, each open
``/console/live`` stream is a :class:`Subscription` with a small queue of its own, and
:func:`stream` turns one into ``text/event-stream`` lines with a heartbeat.

The stream is a generator the web server iterates after the route's worker has returned (a
nameko worker is not held); it ends when the client goes away (the write fails, the server
closes the generator), when the session expires, or when the process stops (:meth:`Hub.close`).
Threads or green threads alike: the queues are the standard library's (green under eventlet's
monkey patching)."""
from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Callable, Iterator

from ..domain import live

log = logging.getLogger(__name__)
BACKLOG = 200               # events a subscriber may fall behind by; then its stream ends
_END = object()


class Subscription:
    def __init__(self, branch: str):
        self.branch = branch
        self._queue: queue.Queue = queue.Queue(maxsize=BACKLOG)
        self.dropped = False    # fell too far behind (or never read): taken off the hub

    def offer(self, item) -> bool:
        try:
            self._queue.put_nowait(item)
            return True
        except queue.Full:
            return False

    def next(self, timeout: float):
        """The next event, None after ``timeout`` seconds without one, ``_END`` at the end."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None


class Hub:
    def __init__(self):
        self._subs: set[Subscription] = set()
        self._lock = threading.Lock()
        self.closed = False

    def subscribe(self, branch: str) -> Subscription:
        sub = Subscription(branch)
        with self._lock:
            if self.closed:
                sub.offer(_END)
            else:
                self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subs.discard(sub)

    def subscribers(self) -> int:
        with self._lock:
            return len(self._subs)

    def publish(self, event: live.LiveEvent) -> int:
        """Hand the event to every subscriber allowed to see it; how many got it."""
        with self._lock:
            subs = [s for s in self._subs if live.visible(event, s.branch)]
        behind = [s for s in subs if not s.offer(event)]
        if behind:
            with self._lock:
                self._subs.difference_update(behind)
            for s in behind:
                s.dropped = True
            log.info("live: %d stream(s) fell %d events behind and were ended",
                     len(behind), BACKLOG)
        return len(subs) - len(behind)

    def close(self) -> None:
        with self._lock:
            self.closed = True
            subs, self._subs = list(self._subs), set()
        for s in subs:
            s.offer(_END)


def stream(hub: Hub, branch: str, until: float | None = None,
           heartbeat: float = live.HEARTBEAT_S,
           clock: Callable[[], float] = time.time, bus_ready: bool = True) -> Iterator[bytes]:
    """The ``text/event-stream`` body of one subscriber scoped to ``branch`` (``HQ``: all),
    ending at ``until`` (a session's expiry, epoch seconds) if given."""
    sub = hub.subscribe(branch)

    def gen():
        try:
            yield live.sse_hello(bus_ready).encode()
            while True:
                left = heartbeat if until is None else min(heartbeat, until - clock())
                if left <= 0:
                    return
                item = sub.next(left)
                if item is _END or (item is None and sub.dropped):
                    return
                yield (live.sse_heartbeat() if item is None else live.sse(item)).encode()
        finally:
            hub.unsubscribe(sub)
    return gen()
