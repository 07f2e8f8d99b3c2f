"""Connecting to RabbitMQ and declaring the platform's topology."""
from __future__ import annotations

import logging

from kombu import Connection

from ..contracts import topology
from . import queues

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


def declare_topology(channel, retry_delays_ms: list[int], delivery_limit: int | None = None) -> None:
    """Declare every exchange, queue and binding (idempotent; durable, never auto-deleted;
    quorum queues, see ``messaging.queues``). The queues are declared on a channel of their
    own, so one left over as a classic queue (PRECONDITION_FAILED) is logged with the way out
    and ``channel`` stays open."""
    for name in topology.exchanges():
        channel.exchange_declare(name, "topic", durable=True, auto_delete=False)
    queues.declare_queues(channel.connection, queues.durable_queues(retry_delays_ms, delivery_limit))


def queue_depth(channel, name: str) -> int:
    """Messages ready in a queue (passive declare; raises if it does not exist)."""
    ok = channel.queue_declare(name, passive=True)
    return int(ok.message_count)


def safe_uri(uri: str) -> str:
    """The URI without its password, for logs and messages."""
    from kombu.utils.url import maybe_sanitize_url
    return maybe_sanitize_url(uri)
