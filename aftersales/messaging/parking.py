"""The parking queue of each service: messages that could not be handled, with their reason.

A parked message keeps its body and properties; headers say why and from where:
``x-parked-id`` (to name it), ``x-parked-reason``, ``x-parked-at``, ``x-original-queue``,
``x-attempts``. Operators list, show, replay (back to the original queue) or purge them with
``aftersales parked …``.
"""
from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

import amqp

from .. import registry
from ..contracts import topology
from ..contracts.envelope import utcnow
from ..logs import mask_text
from . import broker

PARK_HEADERS = ("x-parked-id", "x-parked-reason", "x-parked-at", "x-original-queue")


def park_message(channel, service: str, *, body: bytes, properties: dict, headers: dict,
                 queue: str, reason: str, attempts: int, confirm_timeout: float = 10.0) -> str:
    """Publish a copy of the message to the service's parking queue and wait for the
    broker's confirm (at most ``confirm_timeout`` seconds). Returns the parked id."""
    parked_id = str(uuid.uuid4())
    hdrs = {k: v for k, v in (headers or {}).items() if k not in PARK_HEADERS}
    hdrs.update({
        "x-parked-id": parked_id, "x-parked-reason": mask_text(reason)[:2000],
        "x-parked-at": utcnow().isoformat(), "x-original-queue": queue, "x-attempts": attempts,
    })
    props = {k: v for k, v in properties.items()
             if k in ("content_type", "content_encoding", "message_id", "type", "timestamp")}
    msg = amqp.Message(body, application_headers=hdrs, delivery_mode=2, **props)
    channel.basic_publish_confirm(msg, exchange="", routing_key=topology.parking_queue(service),
                                  confirm_timeout=confirm_timeout)
    return parked_id


def _parked(hdrs: dict, body: bytes, properties: dict) -> "Parked":
    """A parked message from its headers: parked by a consumer (``x-parked-*``), or
    dead-lettered by the broker (``x-death``: a quorum queue's delivery limit was reached)."""
    if "x-parked-id" not in hdrs and hdrs.get("x-death"):
        death = dict((hdrs["x-death"] or [{}])[0])
        ident = properties.get("message_id") or hashlib.sha1(body).hexdigest()[:16]
        limit = death.get("reason") == "delivery_limit"
        return Parked(
            parked_id=f"dl-{ident}",
            reason=("delivery limit reached: the message was delivered and given back "
                    f"{hdrs.get('x-delivery-count', 'too many')} times (a poison message?)"
                    if limit else f"dead-lettered by the broker: {death.get('reason')}"),
            parked_at=str(death.get("time", "")), original_queue=str(death.get("queue", "")),
            attempts=int(hdrs.get("x-delivery-count", 0) or 0), body=body,
            properties=properties, headers=hdrs)
    return Parked(
        parked_id=str(hdrs.get("x-parked-id", "")),
        reason=str(hdrs.get("x-parked-reason", "")),
        parked_at=str(hdrs.get("x-parked-at", "")),
        original_queue=str(hdrs.get("x-original-queue", "")),
        attempts=int(hdrs.get("x-attempts", 0) or 0),
        body=body, properties=properties, headers=hdrs)


@dataclass
class Parked:
    parked_id: str
    reason: str
    parked_at: str
    original_queue: str
    attempts: int
    body: bytes
    properties: dict
    headers: dict

    def summary(self) -> dict[str, Any]:
        return {"parked_id": self.parked_id, "parked_at": self.parked_at,
                "queue": self.original_queue, "attempts": self.attempts,
                "reason": self.reason, "type": self.properties.get("type"),
                "size": len(self.body)}

    def body_text(self) -> str:
        try:
            return json.dumps(json.loads(self.body.decode("utf-8")), ensure_ascii=False, indent=2)
        except (UnicodeDecodeError, ValueError):
            return repr(self.body)


class ParkingLot:
    """Browse and act on one service's parking queue.

    Browsing takes every message without acknowledging it and then closes the channel, which
    puts them all back in order: nothing is removed unless replayed or purged.
    """

    def __init__(self, amqp_uri: str, service: str, retry_delays_ms: list[int] | None = None):
        if service not in registry.SERVICES:
            raise ValueError(f"unknown service {service!r}; one of {', '.join(registry.SERVICES)}")
        self.amqp_uri = amqp_uri
        self.service = service
        self.queue = topology.parking_queue(service)
        self.retry_delays_ms = retry_delays_ms or []

    def _browse(self, act=None, limit: int = 10_000) -> list[Parked]:
        """Every message parked when the browse starts (at most ``limit``); one parked again
        meanwhile (a replay its consumer parks at once) is left for the next browse."""
        with broker.connection(self.amqp_uri) as conn:
            conn.ensure_connection(max_retries=3)
            channel = conn.channel()
            broker.declare_topology(channel, self.retry_delays_ms)
            seen: list[Parked] = []
            try:
                for _ in range(min(limit, broker.queue_depth(channel, self.queue))):
                    m = channel.basic_get(self.queue, no_ack=False)
                    if m is None:
                        break
                    hdrs = dict(m.properties.get("application_headers") or {})
                    body = m.body.encode("utf-8") if isinstance(m.body, str) else bytes(m.body)
                    p = _parked(hdrs, body, dict(m.properties))
                    seen.append(p)
                    if act and act(channel, p):
                        channel.basic_ack(m.delivery_tag)
            finally:
                channel.close()  # unacknowledged messages go back to the queue
        return seen

    def list(self) -> list[Parked]:
        return self._browse()

    def show(self, parked_id: str) -> Parked:
        for p in self._browse():
            if p.parked_id == parked_id:
                return p
        raise LookupError(f"no parked message {parked_id!r} in {self.queue}")

    def replay(self, parked_id: str | None = None) -> list[str]:
        """Send one parked message (or all with ``None``) back to its original queue."""
        done: list[str] = []

        def _replay(channel, p: Parked) -> bool:
            if parked_id is not None and p.parked_id != parked_id:
                return False
            hdrs = {k: v for k, v in p.headers.items()
                    if k not in PARK_HEADERS and k not in ("x-attempts", "x-death", "x-delivery-count")}
            hdrs["x-replayed-from"] = p.parked_id
            props = {k: v for k, v in p.properties.items()
                     if k in ("content_type", "content_encoding", "message_id", "type")}
            channel.basic_publish_confirm(amqp.Message(p.body, application_headers=hdrs, delivery_mode=2,
                                               **props),
                                  exchange="", routing_key=p.original_queue,
                                  confirm_timeout=10.0)
            done.append(p.parked_id)
            return True

        self._browse(_replay)
        if parked_id is not None and not done:
            raise LookupError(f"no parked message {parked_id!r} in {self.queue}")
        return done

    def purge(self, parked_id: str) -> None:
        hit = []

        def _drop(_channel, p: Parked) -> bool:
            if p.parked_id == parked_id:
                hit.append(p)
                return True
            return False

        self._browse(_drop)
        if not hit:
            raise LookupError(f"no parked message {parked_id!r} in {self.queue}")
