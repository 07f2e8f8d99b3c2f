"""Connecting to RabbitMQ and declaring the platform's topology."""
from __future__ import annotations

import logging

from kombu import Connection

from .. import registry
from ..contracts import topology

log = logging.getLogger(__name__)


def connection(amqp_uri: str, heartbeat: int | None = None, connect_timeout: float = 5,
               io_timeout: float | None = None, read_timeout: float | None = None) -> Connection:
    """A lazy connection. ``io_timeout`` bounds every socket write (a broker that stopped
    reading, a half-open connection); ``read_timeout`` every read outside ``drain_events``."""
    options = {}
    if io_timeout:
        options["write_timeout"] = io_timeout
    if read_timeout:
        options["read_timeout"] = read_timeout
    return Connection(amqp_uri, heartbeat=heartbeat, connect_timeout=connect_timeout,
                      transport_options=options or None)


def declare_topology(channel, retry_delays_ms: list[int]) -> None:
    """Declare every exchange, queue and binding (idempotent; durable, never auto-deleted)."""
    for name in topology.exchanges():
        channel.exchange_declare(name, "topic", durable=True, auto_delete=False)
    for q in topology.QUEUES:
        channel.queue_declare(q.name, durable=True, auto_delete=False)
        for b in q.bindings:
            channel.queue_bind(q.name, b.exchange, b.routing_key)
        for delay in retry_delays_ms:
            channel.queue_declare(
                topology.retry_queue(q.name, delay), durable=True, auto_delete=False,
                arguments={"x-message-ttl": int(delay), "x-dead-letter-exchange": "",
                           "x-dead-letter-routing-key": q.name})
    for service in registry.SERVICES:
        channel.queue_declare(topology.parking_queue(service), durable=True, auto_delete=False)


def queue_depth(channel, name: str) -> int:
    """Messages ready in a queue (passive declare; raises if it does not exist)."""
    ok = channel.queue_declare(name, passive=True)
    return int(ok.message_count)


def safe_uri(uri: str) -> str:
    """The URI without its password, for logs and messages."""
    from kombu.utils.url import maybe_sanitize_url
    return maybe_sanitize_url(uri)
