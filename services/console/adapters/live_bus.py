"""The console's ear on the bus: one consumer per console process on a queue of its own
(server-local, exclusive, auto-deleted, not durable), bound to every ticket event of the
platform's exchanges (``<source>.events``, see ``aftersales/contracts/topology.py``), so that
every console instance hears every event (live updates are ephemeral: an instance that is down
misses them, and its pages re-read the services when they reconnect). The platform's durable,
competing-consumer queues are not touched: the console has no events queue.

Messages are taken without acknowledgement (``no_ack``), decoded here (an unreadable one is
skipped) and handed to ``on_event`` as a :class:`~services.console.domain.live.LiveEvent`.
The consumer reconnects after any broker failure with a capped back-off, on a new queue."""
from __future__ import annotations

import json
import logging
import threading
import uuid

from kombu import Consumer, Exchange, Queue, binding

from aftersales.contracts.events import EVENTS
from aftersales.messaging import broker
from aftersales.messaging.failures import backoff

from ..domain import live

log = logging.getLogger(__name__)
MAX_BODY = 1 << 20          # a larger message is no event of ours
HEARTBEAT = 30              # AMQP heartbeat (seconds)


def live_bindings() -> list[tuple[str, str]]:
    """(exchange, routing key) of every event about a ticket (its schema has ``ticket_no``),
    whoever publishes it: a new event type is passed on without naming it here."""
    return sorted({(s.exchange, t) for (t, _), s in EVENTS.items()
                   if "ticket_no" in s.schema.model_fields})


def live_queue(instance: str | None = None) -> Queue:
    name = f"aftersales.console.live.{instance or uuid.uuid4().hex[:12]}"
    exchanges = {}
    binds = []
    for ex, key in live_bindings():
        exchange = exchanges.setdefault(ex, Exchange(ex, "topic", durable=True,
                                                     auto_delete=False))
        binds.append(binding(exchange, routing_key=key))
    return Queue(name, bindings=binds, durable=False, exclusive=True, auto_delete=True)


def decode(body) -> live.LiveEvent | None:
    if isinstance(body, str):
        body = body.encode("utf-8", "replace")
    if not isinstance(body, (bytes, bytearray)) or len(body) > MAX_BODY:
        return None
    try:
        return live.from_envelope(json.loads(body))
    except (ValueError, UnicodeDecodeError):
        return None


class LiveConsumer:
    def __init__(self, amqp_uri: str, on_event, heartbeat: int = HEARTBEAT):
        self.amqp_uri = amqp_uri
        self.on_event = on_event
        self.heartbeat = heartbeat
        self._stopped = False
        self._wake = threading.Event()
        self.connected = threading.Event()     # set while consuming (tests wait on it)
        self.queue_name: str | None = None

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()

    def run(self) -> None:
        failures = 0
        while not self._stopped:
            try:
                self._consume()
                failures = 0
            except Exception as exc:   # broker gone, channel closed: a new connection
                self.connected.clear()
                delay = backoff(failures, base=0.2, cap=10.0)
                failures += 1
                log.warning("live updates: %s: %s; reconnecting in %.1fs", type(exc).__name__,
                            str(exc).splitlines()[0][:300] if str(exc) else "", delay)
                self._wake.wait(delay)
                self._wake.clear()
        self.connected.clear()

    def _consume(self) -> None:
        conn = broker.connection(self.amqp_uri, heartbeat=self.heartbeat)
        try:
            conn.ensure_connection(max_retries=1, interval_start=0)
            channel = conn.channel()
            queue = live_queue()
            self.queue_name = queue.name
            with Consumer(channel, queues=[queue], on_message=self._on_message, no_ack=True,
                          accept=None):
                self.connected.set()
                log.info("live updates: consuming %s from %s", queue.name,
                         broker.safe_uri(self.amqp_uri))
                while not self._stopped:
                    try:
                        conn.drain_events(timeout=1)
                    except TimeoutError:
                        pass
                    # after every drain: a steady flow of events must not starve our beats
                    conn.heartbeat_check()
        finally:
            self.connected.clear()
            try:
                conn.release()
            except Exception:
                pass

    def _on_message(self, message) -> None:
        event = decode(message.body)
        if event is None:
            return
        try:
            self.on_event(event)
        except Exception:
            log.exception("live updates: passing on %s failed", event.type)
