"""The outbox relay: publishes committed outbox rows to RabbitMQ, then marks them sent.

- batched: up to ``batch_size`` rows a round, all published before waiting for the broker's
  confirms (one round trip for the batch, not one per message);
- publisher confirms: a row is marked sent only after the broker acknowledged it; a nack or a
  lost connection leaves it unsent, to go again (consumers are idempotent by ``event_id``);
- ``mandatory=True`` for every event the platform itself consumes: a message the broker
  returns as unroutable stays unsent, its error is recorded, the topology is declared again
  and the row is retried with back-off (an event only integrators subscribe to, such as
  ``request_rejected``, may have no queue bound and is published without it);
- woken by the unit of work after each commit, and polling every ``interval`` seconds, so an
  event created while the broker was down goes out as soon as the broker is back;
- a lost connection (broker restarted or gone) is no fault of a row: the relay reconnects with
  capped back-off and counts no attempt. A row the broker refuses (returned, nacked, or a
  channel error such as a missing exchange: the batch is then published again one row at a
  time, so only the row at fault is charged) counts an attempt and waits ``0.5 * 2**attempts``
  seconds, at most 60 (at most 5 for a nack, the broker's "not now", which also reconnects,
  and never parks a row); after ``max_attempts`` it is *parked*: left unsent and no longer tried,
  listed and replayed with ``aftersales outbox list|replay`` (``messaging.outbox_parking``);
- the connection has heartbeats, checked while the relay idles; every wait for confirms is
  bounded by ``confirm_timeout``;
- sent rows and old inbox ids are pruned after their retention (``outbox.prune``).
"""
from __future__ import annotations

import logging
import socket
import threading
import time
from datetime import timedelta

import amqp
import amqp.exceptions
from sqlalchemy import or_, select, update

from ..contracts.envelope import utcnow
from ..contracts import topology
from ..outbox import outbox, prune
from . import broker
from .failures import backoff
from .publisher import discard, keepalive

log = logging.getLogger(__name__)
NACKED = "nacked by the broker"
NACK_BACKOFF_CAP_S = 5.0   # a nack is the broker's "not now": a row waits at most this long


class PublishError(Exception):
    pass


class OutboxRelay:
    def __init__(self, engine, amqp_uri: str, retry_delays_ms: list[int], *,
                 batch_size: int = 200, interval: float = 1.0, confirm_timeout: float = 10.0,
                 heartbeat: int | None = 30, max_attempts: int = 30, retention: dict | None = None,
                 clock=utcnow, metrics=None):
        self.engine = engine
        self.heartbeat = heartbeat
        self.max_attempts = max_attempts
        self.retention = retention or {"outbox_hours": 168, "inbox_hours": 336, "interval_s": 600}
        self.clock = clock
        self._next_prune = 0.0
        self.amqp_uri = amqp_uri
        self.retry_delays_ms = retry_delays_ms
        self.batch_size = batch_size
        self.interval = interval
        self.confirm_timeout = confirm_timeout
        self.metrics = metrics
        self._conn = None
        self._channel = None
        self._seq = 0
        self._pending: dict[int, int] = {}
        self._nacked: set[int] = set()
        self._returned: dict[str, str] = {}
        self._wake = threading.Event()   # green under eventlet.monkey_patch()
        self._stopped = False
        self.broker_connected = False

    # -- lifecycle ------------------------------------------------------------------------
    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()

    def run(self) -> None:
        failures = 0
        while not self._stopped:
            try:
                self.prune_if_due()
                published = self.publish_pending()
                if published < self.batch_size:
                    self._keepalive()
                failures = 0
            except Exception as exc:  # broker or database unreachable: keep the rows, retry
                delay = backoff(failures, base=0.2, cap=5.0)
                failures += 1
                log.warning("outbox relay: %s: %s; retrying in %.1fs", type(exc).__name__,
                            str(exc).splitlines()[0][:300] if str(exc) else "", delay)
                self._close(graceful=False)
                self._wake.wait(delay)
                self._wake.clear()
                continue
            if published < self.batch_size:
                self._wake.wait(self.interval)
                self._wake.clear()
        self._close()

    def _keepalive(self) -> None:
        if self._conn is not None:
            keepalive(self._conn)

    def prune_if_due(self) -> None:
        if time.monotonic() < self._next_prune:
            return
        self._next_prune = time.monotonic() + self.retention["interval_s"]
        sent, ids = prune(self.engine, self.clock(),
                          outbox_retention=timedelta(hours=self.retention["outbox_hours"]),
                          inbox_retention=timedelta(hours=self.retention["inbox_hours"]))
        if sent or ids:
            log.info("pruned %d sent outbox row(s) and %d inbox id(s)", sent, ids)

    # -- one round ------------------------------------------------------------------------
    def publish_pending(self) -> int:
        """Publish one batch; return how many rows were confirmed."""
        now = self.clock()
        query = (select(outbox.c.id, outbox.c.event_id, outbox.c.exchange, outbox.c.routing_key,
                        outbox.c.body, outbox.c.attempts)
                 .where(outbox.c.published_at.is_(None))
                 .where(or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= now))
                 .where(outbox.c.attempts < self.max_attempts)
                 .order_by(outbox.c.id).limit(self.batch_size))
        if self.engine.dialect.name == "postgresql":
            # several instances of a service may relay at once: each takes its own rows
            with self.engine.begin() as conn:
                rows = conn.execute(query.with_for_update(skip_locked=True)).all()
                if not rows:
                    return 0
                ok, failed = self._publish(rows)
                self._mark(conn, rows, ok, failed)
        else:
            # SQLite: do not hold the write lock while waiting for the broker
            with self.engine.begin() as conn:
                rows = conn.execute(query).all()
            if not rows:
                return 0
            ok, failed = self._publish(rows)
            with self.engine.begin() as conn:
                self._mark(conn, rows, ok, failed)
        if self.metrics:
            self.metrics.outbox_published(len(ok))
        return len(ok)

    def _mark(self, conn, rows, ok: list[int], failed: dict[int, str]) -> None:
        now = self.clock()
        if ok:
            conn.execute(update(outbox).where(outbox.c.id.in_(ok))
                         .values(published_at=now, last_error=None))
        attempts = {r.id: r.attempts for r in rows}
        for row_id, error in failed.items():
            tried = attempts[row_id] + 1
            if error == NACKED:   # the broker's "not now": retried until taken, never parked
                tried = min(tried, self.max_attempts - 1)
            if tried >= self.max_attempts:
                log.error("outbox row %d parked after %d attempts: %s", row_id, tried, error[:300])
            cap = NACK_BACKOFF_CAP_S if error == NACKED else 60.0
            conn.execute(update(outbox).where(outbox.c.id == row_id).values(
                attempts=tried, last_error=error[:1000],
                next_attempt_at=now + timedelta(seconds=backoff(attempts[row_id], cap=cap))))

    # -- broker side ----------------------------------------------------------------------
    def _ensure_channel(self):
        if self._channel is not None and self._conn is not None and self._conn.connected:
            return self._channel
        self._close()
        conn = broker.connection(self.amqp_uri, heartbeat=self.heartbeat,
                                 io_timeout=self.confirm_timeout)
        conn.ensure_connection(max_retries=1, interval_start=0)
        channel = conn.channel()
        broker.declare_topology(channel, self.retry_delays_ms)
        channel.confirm_select()
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)
        channel.events["basic_return"].add(self._on_return)
        self._conn, self._channel, self._seq = conn, channel, 0
        self.broker_connected = True
        log.info("outbox relay connected to %s", broker.safe_uri(self.amqp_uri))
        return channel

    def _close(self, graceful: bool = True) -> None:
        self.broker_connected = False
        conn, self._conn, self._channel = self._conn, None, None
        self._pending.clear()
        if conn is not None and not graceful:
            discard(conn)
        elif conn is not None:
            try:
                conn.release()
            except Exception:  # already gone
                pass

    def _on_ack(self, delivery_tag, multiple):
        for tag in [t for t in self._pending if t == delivery_tag or (multiple and t <= delivery_tag)]:
            self._pending.pop(tag)

    def _on_nack(self, delivery_tag, multiple):
        for tag in [t for t in self._pending if t == delivery_tag or (multiple and t <= delivery_tag)]:
            self._nacked.add(self._pending.pop(tag))

    def _on_return(self, exc, exchange, routing_key, message):
        event_id = message.properties.get("message_id")
        self._returned[event_id] = f"unroutable: {exchange}/{routing_key} ({exc})"

    def _publish(self, rows) -> tuple[list[int], dict[int, str]]:
        """Publish ``rows`` in one batch; after a channel error (the broker closed the channel
        for one of them), one row at a time, so that the row at fault is the one charged."""
        try:
            return self._publish_batch(rows)
        except amqp.exceptions.ChannelError as exc:
            log.warning("outbox relay: channel error in a batch of %d (%s); one row at a time",
                        len(rows), exc)
            self._close()
        ok: list[int] = []
        failed: dict[int, str] = {}
        for r in rows:
            try:
                row_ok, row_failed = self._publish_batch([r])
            except amqp.exceptions.ChannelError as exc:
                self._close()
                row_ok, row_failed = [], {r.id: f"channel error: {exc}"}
            ok += row_ok
            failed.update(row_failed)
        return ok, failed

    def _publish_batch(self, rows) -> tuple[list[int], dict[int, str]]:
        channel = self._ensure_channel()
        self._nacked.clear()
        self._returned.clear()
        by_tag: dict[int, object] = {}
        for r in rows:
            msg = amqp.Message(
                r.body.encode("utf-8"), content_type="application/json",
                content_encoding="utf-8", delivery_mode=2, message_id=r.event_id,
                type=r.routing_key, application_headers={"x-outbox-id": r.id},
            )
            # mandatory where the platform itself consumes the event: unroutable is then a
            # fault; an event only integrators subscribe to may have no queue yet
            channel.basic_publish(msg, exchange=r.exchange, routing_key=r.routing_key,
                                  mandatory=bool(topology.consumers_of(r.routing_key)))
            self._seq += 1
            self._pending[self._seq] = r.id
            by_tag[self._seq] = r
        deadline = time.monotonic() + self.confirm_timeout
        while self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PublishError(f"no confirm from the broker for {len(self._pending)} message(s)")
            try:
                self._conn.drain_events(timeout=remaining)
            except socket.timeout:
                continue   # the deadline check above raises
        failed: dict[int, str] = {}
        for r in rows:
            if r.event_id in self._returned:
                failed[r.id] = self._returned[r.event_id]
            elif r.id in self._nacked:
                failed[r.id] = NACKED
        if any("unroutable" in e for e in failed.values()):
            log.error("outbox relay: %d unroutable event(s); declaring the topology again",
                      len(failed))
            broker.declare_topology(channel, self.retry_delays_ms)
        if any(e == NACKED for e in failed.values()):
            # a queue could not take them (e.g. its leader was on a node that died): try
            # again soon on a new connection, whose channel finds the queues' leaders afresh
            log.warning("outbox relay: %d of %d event(s) nacked by the broker; reconnecting",
                        sum(e == NACKED for e in failed.values()), len(rows))
            self._close()
        ok = [r.id for r in rows if r.id not in failed]
        return ok, failed
