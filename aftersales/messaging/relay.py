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
  event created while the broker was down goes out as soon as the broker is back.
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

import amqp
from sqlalchemy import or_, select, update

from ..contracts.envelope import utcnow
from ..contracts import topology
from ..outbox import outbox
from . import broker

log = logging.getLogger(__name__)


class PublishError(Exception):
    pass


class OutboxRelay:
    def __init__(self, engine, amqp_uri: str, retry_delays_ms: list[int], *,
                 batch_size: int = 200, interval: float = 1.0, confirm_timeout: float = 10.0,
                 metrics=None):
        self.engine = engine
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
        backoff = 0.2
        while not self._stopped:
            try:
                published = self.publish_pending()
                backoff = 0.2
            except Exception as exc:  # broker or database unreachable: keep the rows, retry
                log.warning("outbox relay: %s; retrying in %.1fs", exc, backoff)
                self._close()
                self._wake.wait(backoff)
                self._wake.clear()
                backoff = min(backoff * 2, 5.0)
                continue
            if published < self.batch_size:
                self._wake.wait(self.interval)
                self._wake.clear()
        self._close()

    # -- one round ------------------------------------------------------------------------
    def publish_pending(self) -> int:
        """Publish one batch; return how many rows were confirmed."""
        now = utcnow()
        query = (select(outbox.c.id, outbox.c.event_id, outbox.c.exchange, outbox.c.routing_key,
                        outbox.c.body, outbox.c.attempts)
                 .where(outbox.c.published_at.is_(None))
                 .where(or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= now))
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

    @staticmethod
    def _mark(conn, rows, ok: list[int], failed: dict[int, str]) -> None:
        now = utcnow()
        if ok:
            conn.execute(update(outbox).where(outbox.c.id.in_(ok))
                         .values(published_at=now, last_error=None))
        attempts = {r.id: r.attempts for r in rows}
        for row_id, error in failed.items():
            backoff = min(60.0, 0.5 * 2 ** attempts[row_id])
            conn.execute(update(outbox).where(outbox.c.id == row_id).values(
                attempts=attempts[row_id] + 1, last_error=error[:1000],
                next_attempt_at=now + timedelta(seconds=backoff)))

    # -- broker side ----------------------------------------------------------------------
    def _ensure_channel(self):
        if self._channel is not None and self._conn is not None and self._conn.connected:
            return self._channel
        self._close()
        conn = broker.connection(self.amqp_uri)
        conn.ensure_connection(max_retries=1)
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

    def _close(self) -> None:
        self.broker_connected = False
        conn, self._conn, self._channel = self._conn, None, None
        self._pending.clear()
        if conn is not None:
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
            self._conn.drain_events(timeout=remaining)
        failed: dict[int, str] = {}
        for r in rows:
            if r.event_id in self._returned:
                failed[r.id] = self._returned[r.event_id]
            elif r.id in self._nacked:
                failed[r.id] = "nacked by the broker"
        if any("unroutable" in e for e in failed.values()):
            log.error("outbox relay: %d unroutable event(s); declaring the topology again",
                      len(failed))
            broker.declare_topology(channel, self.retry_delays_ms)
        ok = [r.id for r in rows if r.id not in failed]
        return ok, failed
