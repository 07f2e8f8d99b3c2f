"""Connecting to RabbitMQ and declaring the platform's topology."""
from __future__ import annotations

import itertools
import logging

from kombu import Connection

from ..contracts import topology
from . import queues

log = logging.getLogger(__name__)


def connection(amqp_uri: str, heartbeat: int | None = None, connect_timeout: float = 5,
               io_timeout: float | None = None, read_timeout: float | None = None) -> Connection:
    """A lazy connection. ``io_timeout`` bounds every socket write (a broker that stopped
    reading, a half-open connection); ``read_timeout`` every read outside ``drain_events``.

    ``amqp_uri`` may name several nodes of a cluster, kombu's failover form
    ``pyamqp://u:p@h1:5672//;pyamqp://u:p@h2:5672//``: each new connection starts at the next
    node in turn (so the relay's and the publisher's connections are spread over the cluster)
    and, when a node cannot be reached, goes on to the next one; one ``ensure_connection``,
    whatever its ``max_retries``, tries every node once before it gives up."""
    options = {}
    if io_timeout:
        options["write_timeout"] = io_timeout
    if read_timeout:
        options["read_timeout"] = read_timeout
    uris = nodes(amqp_uri)
    if len(uris) > 1:
        start = next(_rotation) % len(uris)
        uris = uris[start:] + uris[:start]
    return _FailoverConnection(";".join(uris), heartbeat=heartbeat,
                               connect_timeout=connect_timeout, transport_options=options or None)


def nodes(amqp_uri: str) -> list[str]:
    """The node URIs of an ``AMQP_URI`` (one, or several separated by ``;``)."""
    return [u.strip() for u in amqp_uri.split(";") if u.strip()]


_rotation = itertools.count()


class _FailoverConnection(Connection):
    """kombu's connection, but a bounded ``ensure_connection`` tries each node at least once
    (kombu counts a switch to the next node as a retry; it sleeps only after a whole round)."""

    def _ensure_connection(self, *args, max_retries=None, **kwargs):
        if max_retries is not None and self.alt:
            max_retries = max(max_retries, len(self.alt) - 1)
        return super()._ensure_connection(*args, max_retries=max_retries, **kwargs)


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
    """The URI without its password (without any node's, when it names several), for logs
    and messages."""
    from kombu.utils.url import maybe_sanitize_url
    return ";".join(maybe_sanitize_url(u) for u in uri.split(";"))
