"""``@consume_events(queue)``: the nameko entrypoint every service consumes with.

Unlike nameko's ``event_handler`` (auto-deleted exchanges, queues that exist only once the
service ran, a failing handler's message acknowledged and lost), this entrypoint:

- consumes a queue from the platform topology (declared, durable, on every (re)connect);
- reads the raw body itself, so an unreadable message (not UTF-8, not JSON, too large, a bad
  envelope, an unknown event version) is parked with its reason instead of killing the consumer;
- acknowledges only after the worker finished (at-least-once);
- on a transient failure (database or broker unreachable, see ``failures``) keeps the message
  and runs it again after a capped back-off, without limit, pausing the service's consumers
  while the database is down (``availability``);
- on any other failure retries a bounded number of times through delay queues
  (``x-attempts`` header), then parks the message; a handler can also ask for parking
  (``ParkMessage``);
- if the retry or park publish fails, the message is requeued, never dropped; an
  acknowledgement on a dead connection is dropped (the broker redelivers the message);
- handles at most ``message_workers`` messages at once (``availability``), leaving the rest of
  the worker pool to HTTP and timers;
- with ``batch=N`` (enveloped queues only), hands the method a *list* of up to N envelopes
  gathered from what is prefetched (``BATCH_GATHER_S``, a few ms, no more), to run in one unit
  of work (``MessageBus.handle_events``); all are acknowledged after it returned; if it
  raises, each message is run again alone (``[envelope]``) on the path above, so a poison
  message is retried or parked alone and the others commit.
"""
from __future__ import annotations

import logging
import time
from functools import partial

from kombu import Queue
from nameko.exceptions import ContainerBeingKilled
from nameko.extensions import Entrypoint
from nameko.messaging import QueueConsumer
from pydantic import ValidationError

from .. import jsonbounds, metrics
from ..contracts import topology
from ..contracts.envelope import Envelope
from ..contracts.events import spec_for
from ..errors import InvalidInput, ParkMessage, PermanentError
from ..outbox import DuplicateEvent
from . import broker
from .availability import Availability, message_workers
from .failures import DATABASE, backoff, transient_kind
from .publisher import FailurePublisher

log = logging.getLogger(__name__)

BATCH_GATHER_S = 0.003   # how long a batch waits for more prefetched messages (green sleep)


def retry_delays(container) -> list[int]:
    return list(container.config.get("AFTERSALES", {}).get("retry_delays_ms", [1000, 10000, 60000]))


class RawQueueConsumer(QueueConsumer):
    """nameko's queue consumer, but handing over undecoded messages, declaring the whole
    topology on every (re)connection, a prefetch of the message budget (below
    ``max_workers``), and acknowledgements that never raise.

    nameko's consumer thread reconnects with back-off after any connection or channel error
    (kombu's ``ConsumerMixin``, ``ensure_connection`` without a retry limit). A message whose
    connection is gone cannot be acknowledged: the broker redelivers it to the new connection,
    and the consumers are idempotent, so the ack is dropped with a log line."""

    availability = Availability()
    _consuming = None   # (kombu connection, its AMQP connection) the consumers were set up on

    @property
    def prefetch_count(self):
        return message_workers(self.container.config)

    def get_consumers(self, consumer_cls, channel):
        broker.declare_topology(channel, retry_delays(self.container))
        for provider in self._providers:
            consumer = consumer_cls(
                queues=[Queue(provider.queue_name, no_declare=True)],
                on_message=partial(self._on_raw_message, provider),
            )
            consumer.qos(prefetch_count=self.prefetch_count)
            self._consumers[provider] = consumer
        return self._consumers.values()

    def on_consume_ready(self, connection, channel, consumers, **kwargs):
        self._consuming = (connection, connection._connection)   # kombu's and the AMQP one
        self.availability.consumer_connected = True
        super().on_consume_ready(connection, channel, consumers, **kwargs)

    def on_iteration(self):
        """Before every ``drain_events`` (at least once a second): fail the consume loop if the
        connection the consumers live on is gone, so that kombu reconnects *with* them.

        A failed write (an acknowledgement on a connection whose node died) marks the AMQP
        transport disconnected before the reader sees the socket close; kombu's
        ``Connection.connection`` then silently opens a new connection on the next
        ``drain_events`` or heartbeat check, one with no channel and no consumer, and the
        service would wait on it for ever (seen with a node killed in a cluster)."""
        if self._consuming is not None and not self.should_stop:
            conn, amqp_conn = self._consuming
            if conn._connection is not amqp_conn or not amqp_conn.connected:
                self._consuming = None
                raise ConnectionError("the connection the consumers were on is gone")
        super().on_iteration()

    def on_connection_error(self, exc, interval):
        self.availability.consumer_connected = False
        super().on_connection_error(exc, interval)

    def on_connection_revived(self):
        self._consuming = None
        self.availability.consumer_connected = False   # until the consumers are set up again

    def _on_raw_message(self, provider, message):
        self.container.spawn_managed_thread(
            partial(provider.handle_message, message),
            identifier=f"{type(provider).__name__}.handle_message[{provider.queue_name}]")

    def ack_message(self, message):
        self._settle(message, super().ack_message, "acknowledge")

    def requeue_message(self, message):
        self._settle(message, super().requeue_message, "requeue")

    @staticmethod
    def _settle(message, settle, what):
        try:
            settle(message)
        except Exception as exc:   # the connection is gone: the broker redelivers the message
            log.warning("could not %s a message (%s: %s); the broker will redeliver it",
                        what, type(exc).__name__, exc)


class EventConsumer(Entrypoint):
    queue_consumer = RawQueueConsumer()
    failures = FailurePublisher()

    def __init__(self, queue_name: str, batch: int = 1, **kwargs):
        self.queue_name = queue_name
        self.batch = max(1, int(batch))
        self._gathered: list = []
        self._gathering = False
        kwargs.setdefault("expected_exceptions",
                          (ParkMessage, PermanentError, InvalidInput, DuplicateEvent))
        super().__init__(**kwargs)

    def setup(self):
        self.spec = topology.queue(self.queue_name)
        self.service = self.container.config.get("AFTERSALES", {}).get(
            "service", self.container.service_name)
        if self.batch > 1 and not self.spec.enveloped:
            raise ValueError(f"{self.queue_name}: batch= needs an enveloped queue")
        self.queue_consumer.register_provider(self)

    def stop(self):
        self.queue_consumer.unregister_provider(self)

    # -- decoding ---------------------------------------------------------------------------
    def decode(self, message):
        # the integrators' own format (not enveloped) keeps fields beyond the bounds as
        # markers, so its handler can name them and still answer; platform events must be clean
        try:
            data = jsonbounds.loads(message.body, strict=self.spec.enveloped)
        except jsonbounds.BodyError as exc:
            reason = ("body " + exc.errors[0]["message"]) if exc.whole_body else str(exc)
            raise PermanentError(reason) from None
        if not isinstance(data, dict):
            raise PermanentError("body is not a JSON object")
        if not self.spec.enveloped:
            return data
        try:
            env = Envelope.model_validate(data)
            spec_for(env.type, env.version).schema.model_validate(env.data)
        except ValidationError as exc:
            fields = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise PermanentError(f"invalid event: {fields}") from None
        except LookupError as exc:
            raise PermanentError(str(exc)) from None
        return env

    # -- handling ---------------------------------------------------------------------------
    # Every path below ends in exactly one of: ack, park (then ack), retry (then ack), requeue,
    # or a transient wait followed by another run. None of them raises: an exception escaping a
    # managed thread would stop the whole container.
    def handle_message(self, message):
        self.queue_consumer.availability.acquire()
        try:
            self._handle(message)
        except Exception:
            log.exception("could not handle a message on %s; requeueing it", self.queue_name)
            self._finish(self.queue_consumer.requeue_message, message)

    def _handle(self, message):
        attempts = int((message.headers or {}).get("x-attempts", 0) or 0)
        started = time.monotonic()
        try:
            payload = self.decode(message)
        except PermanentError as exc:
            self._park(message, str(exc), attempts, started)
            return
        if self.batch > 1:
            self._gather(message, payload, attempts, started)
            return
        self._run(message, payload, attempts, started, transient_failures=0)

    # -- batches ----------------------------------------------------------------------------
    def _gather(self, message, payload, attempts, started):
        self._gathered.append((message, payload, attempts, started))
        if not self._gathering:
            self._gathering = True
            self.container.spawn_managed_thread(
                self._flush, identifier=f"batch[{self.queue_name}]")

    def _flush(self):
        try:
            time.sleep(BATCH_GATHER_S)   # ok: lets the prefetched messages be gathered
            while self._gathered:
                items, self._gathered = self._gathered[:self.batch], self._gathered[self.batch:]
                self._run_batch(items)
        except Exception:
            log.exception("could not run a batch on %s; requeueing it", self.queue_name)
            for item in self._gathered:
                self._finish(self.queue_consumer.requeue_message, item[0])
            self._gathered = []
        finally:
            self._gathering = False

    def _run_batch(self, items):
        if len(items) == 1:
            message, payload, attempts, started = items[0]
            self._run(message, payload, attempts, started, transient_failures=0)
            return
        self.queue_consumer.availability.wait_for_database()
        try:
            self.container.spawn_worker(
                self, ([payload for _, payload, _, _ in items],), {},
                context_data={"batch": str(len(items))},
                handle_result=partial(self.handle_batch_result, items))
        except ContainerBeingKilled:
            for item in items:
                self._finish(self.queue_consumer.requeue_message, item[0])

    def handle_batch_result(self, items, worker_ctx, result=None, exc_info=None):
        if exc_info is None:
            for message, _, _, started in items:
                try:
                    self._ack(message, "ok", started)
                except Exception:
                    log.exception("could not acknowledge a message on %s", self.queue_name)
            return result, exc_info
        exc = exc_info[1]
        log.warning("a batch of %d on %s failed (%s: %s); running each message alone",
                    len(items), self.queue_name, type(exc).__name__,
                    str(exc).splitlines()[0][:200] if str(exc) else "")

        def alone():   # in a thread of its own: the batch's worker returns to the pool first
            for message, payload, attempts, started in items:
                try:
                    self._run(message, payload, attempts, started, transient_failures=0)
                except Exception:
                    log.exception("could not run a message on %s; requeueing it", self.queue_name)
                    self._finish(self.queue_consumer.requeue_message, message)

        self.container.spawn_managed_thread(alone, identifier=f"batch-alone[{self.queue_name}]")
        return result, exc_info

    def _run(self, message, payload, attempts, started, transient_failures):
        self.queue_consumer.availability.wait_for_database()   # database down: take nothing new
        context = {}
        if isinstance(payload, Envelope):
            context = {"event_id": str(payload.event_id), "ticket_no": payload.ticket_no or "",
                       "branch": payload.branch or ""}
        try:
            self.container.spawn_worker(
                self, ([payload] if self.batch > 1 else payload,), {}, context_data=context,
                handle_result=partial(self.handle_result, message, attempts, started,
                                      payload, transient_failures))
        except ContainerBeingKilled:
            self._finish(self.queue_consumer.requeue_message, message)

    def handle_result(self, message, attempts, started, payload, transient_failures, worker_ctx,
                      result=None, exc_info=None):
        try:
            self._dispose(message, attempts, started, payload, transient_failures, exc_info)
        except Exception:
            log.exception("could not settle a message on %s; requeueing it", self.queue_name)
            self._finish(self.queue_consumer.requeue_message, message)
        return result, exc_info

    def _dispose(self, message, attempts, started, payload, transient_failures, exc_info):
        if exc_info is None:
            self._ack(message, "ok", started)
            return
        exc = exc_info[1]
        if isinstance(exc, DuplicateEvent):
            self._ack(message, "duplicate", started)
        elif isinstance(exc, ParkMessage):
            self._park(message, exc.reason, attempts, started)
        elif isinstance(exc, (PermanentError, InvalidInput)):
            self._park(message, f"{type(exc).__name__}: {exc}", attempts, started)
        elif (kind := transient_kind(exc)) is not None:
            self._retry_transient(message, payload, attempts, started, transient_failures, kind, exc)
        else:
            self._retry_or_park(message, exc, attempts, started)

    def _retry_transient(self, message, payload, attempts, started, n, kind, exc):
        """Keep the message (unacknowledged) and run it again after a capped back-off, without
        limit; a database failure also closes the gate for every consumer of the service."""
        gate = self.queue_consumer.availability
        if kind == DATABASE:
            gate.database_failed(exc)
        delay = backoff(n, cap=gate.backoff_max)
        log.warning("transient %s failure on %s (%s: %s); trying again in %.1fs",
                    kind, self.queue_name, type(exc).__name__, str(exc).splitlines()[0][:200],
                    delay)
        metrics.message_handled(self.service, self.queue_name, "transient",
                                time.monotonic() - started)

        def again():
            try:
                time.sleep(delay)  # ok: the back-off before running the message again
                if gate.stopped:
                    self._finish(self.queue_consumer.requeue_message, message)
                    return
                self._run(message, payload, attempts, time.monotonic(), n + 1)
            except Exception:
                log.exception("could not retry a message on %s; requeueing it", self.queue_name)
                self._finish(self.queue_consumer.requeue_message, message)

        self.container.spawn_managed_thread(again, identifier=f"retry[{self.queue_name}]")

    def _finish(self, settle, message):
        settle(message)
        self.queue_consumer.availability.release()

    def _ack(self, message, outcome, started):
        self._finish(self.queue_consumer.ack_message, message)
        metrics.message_handled(self.service, self.queue_name, outcome, time.monotonic() - started)

    def _retry_or_park(self, message, exc, attempts, started):
        delays = retry_delays(self.container)
        reason = f"{type(exc).__name__}: {exc}"
        if attempts < len(delays):
            try:
                self.failures.publish_retry(self.queue_name, message, attempts + 1, delays[attempts])
            except Exception as pub_exc:
                log.error("could not schedule a retry (%s); requeueing the message", pub_exc)
                self._finish(self.queue_consumer.requeue_message, message)
                return
            log.warning("retry %d/%d in %d ms for a message on %s: %s",
                        attempts + 1, len(delays), delays[attempts], self.queue_name, reason)
            self._ack(message, "retried", started)
        else:
            self._park(message, f"gave up after {attempts + 1} attempts: {reason}", attempts, started)

    def _park(self, message, reason, attempts, started):
        try:
            parked_id = self.failures.park(self.service, self.queue_name, message, reason, attempts)
        except Exception as pub_exc:
            log.error("could not park a message (%s); requeueing it", pub_exc)
            self._finish(self.queue_consumer.requeue_message, message)
            return
        log.warning("parked message %s from %s: %s", parked_id, self.queue_name, reason)
        self._ack(message, "parked", started)


consume_events = EventConsumer.decorator
