"""``@consume_events(queue)``: the nameko entrypoint every service consumes with.

Unlike nameko's ``event_handler`` (auto-deleted exchanges, queues that exist only once the
service ran, a failing handler's message acknowledged and lost), this entrypoint:

- consumes a queue from the platform topology (declared, durable, on every (re)connect);
- reads the raw body itself, so an unreadable message (not UTF-8, not JSON, too large, a bad
  envelope, an unknown event version) is parked with its reason instead of killing the consumer;
- acknowledges only after the worker finished (at-least-once);
- on failure retries a bounded number of times through delay queues (``x-attempts`` header),
  then parks the message; a handler can also ask for parking (``ParkMessage``);
- if the retry or park publish fails, the message is requeued, never dropped.
"""
from __future__ import annotations

import logging
import threading
import time
from functools import partial

import amqp
from kombu import Queue
from nameko.exceptions import ContainerBeingKilled
from nameko.extensions import Entrypoint, SharedExtension
from nameko.messaging import QueueConsumer
from pydantic import ValidationError

from .. import jsonbounds, metrics
from ..contracts import topology
from ..contracts.envelope import Envelope
from ..contracts.events import spec_for
from ..errors import InvalidInput, ParkMessage, PermanentError
from ..outbox import DuplicateEvent
from . import broker
from .parking import park_message

log = logging.getLogger(__name__)


def retry_delays(container) -> list[int]:
    return list(container.config.get("AFTERSALES", {}).get("retry_delays_ms", [1000, 10000, 60000]))


class RawQueueConsumer(QueueConsumer):
    """nameko's queue consumer, but handing over undecoded messages and declaring the whole
    topology on every (re)connection."""

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

    def _on_raw_message(self, provider, message):
        self.container.spawn_managed_thread(
            partial(provider.handle_message, message),
            identifier=f"{type(provider).__name__}.handle_message[{provider.queue_name}]")


class FailurePublisher(SharedExtension):
    """One confirmed channel per container for retry and parking publishes."""

    def __init__(self):
        super().__init__()
        self._conn = None
        self._channel = None
        self._lock = threading.Lock()

    def _ensure(self):
        if self._channel is None or self._conn is None or not self._conn.connected:
            self._drop()
            self._conn = broker.connection(self.container.config["AMQP_URI"])
            self._conn.ensure_connection(max_retries=2)
            self._channel = self._conn.channel()
        return self._channel

    def _drop(self):
        conn, self._conn, self._channel = self._conn, None, None
        if conn is not None:
            try:
                conn.release()
            except Exception:
                pass

    def publish_retry(self, queue_name: str, message, attempts: int, delay_ms: int) -> None:
        with self._lock:
            try:
                headers = dict(message.headers or {})
                headers["x-attempts"] = attempts
                props = {k: v for k, v in message.properties.items()
                         if k in ("content_type", "content_encoding", "message_id", "type")}
                msg = amqp.Message(message.body, application_headers=headers, delivery_mode=2,
                                   **props)
                self._ensure().basic_publish_confirm(
                    msg, exchange="", routing_key=topology.retry_queue(queue_name, delay_ms))
            except Exception:
                self._drop()
                raise

    def park(self, service: str, queue_name: str, message, reason: str, attempts: int) -> str:
        with self._lock:
            try:
                return park_message(self._ensure(), service, body=message.body,
                                    properties=message.properties, headers=message.headers,
                                    queue=queue_name, reason=reason, attempts=attempts)
            except Exception:
                self._drop()
                raise

    def stop(self):
        self._drop()

    def kill(self):
        self._drop()


class EventConsumer(Entrypoint):
    queue_consumer = RawQueueConsumer()
    failures = FailurePublisher()

    def __init__(self, queue_name: str, **kwargs):
        self.queue_name = queue_name
        kwargs.setdefault("expected_exceptions",
                          (ParkMessage, PermanentError, InvalidInput, DuplicateEvent))
        super().__init__(**kwargs)

    def setup(self):
        self.spec = topology.queue(self.queue_name)
        self.service = self.container.config.get("AFTERSALES", {}).get(
            "service", self.container.service_name)
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
    def handle_message(self, message):
        attempts = int((message.headers or {}).get("x-attempts", 0) or 0)
        started = time.monotonic()
        try:
            payload = self.decode(message)
        except PermanentError as exc:
            self._park(message, str(exc), attempts, started)
            return
        context = {}
        if isinstance(payload, Envelope):
            context = {"event_id": str(payload.event_id), "ticket_no": payload.ticket_no or "",
                       "branch": payload.branch or ""}
        try:
            self.container.spawn_worker(
                self, (payload,), {}, context_data=context,
                handle_result=partial(self.handle_result, message, attempts, started))
        except ContainerBeingKilled:
            self.queue_consumer.requeue_message(message)

    def handle_result(self, message, attempts, started, worker_ctx, result=None, exc_info=None):
        if exc_info is None:
            self._ack(message, "ok", started)
            return result, exc_info
        exc = exc_info[1]
        if isinstance(exc, DuplicateEvent):
            self._ack(message, "duplicate", started)
        elif isinstance(exc, ParkMessage):
            self._park(message, exc.reason, attempts, started)
        elif isinstance(exc, (PermanentError, InvalidInput)):
            self._park(message, f"{type(exc).__name__}: {exc}", attempts, started)
        else:
            self._retry_or_park(message, exc, attempts, started)
        return result, exc_info

    def _ack(self, message, outcome, started):
        self.queue_consumer.ack_message(message)
        metrics.message_handled(self.service, self.queue_name, outcome, time.monotonic() - started)

    def _retry_or_park(self, message, exc, attempts, started):
        delays = retry_delays(self.container)
        reason = f"{type(exc).__name__}: {exc}"
        if attempts < len(delays):
            try:
                self.failures.publish_retry(self.queue_name, message, attempts + 1, delays[attempts])
            except Exception as pub_exc:
                log.error("could not schedule a retry (%s); requeueing the message", pub_exc)
                self.queue_consumer.requeue_message(message)
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
            self.queue_consumer.requeue_message(message)
            return
        log.warning("parked message %s from %s: %s", parked_id, self.queue_name, reason)
        self._ack(message, "parked", started)


consume_events = EventConsumer.decorator
