"""Confirmed publishing for retries and parking: a small pool of channels, never a lock held
across a network wait, and every publish bounded by a confirm timeout.

Each publish takes an idle connection from the pool (or opens one), publishes with
``confirm_timeout`` and gives the connection back. A connection that failed is closed, never
returned; the publish is tried once more on a fresh connection. So a broker that blocks
publishers (memory or disk alarm) or a half-open connection costs one publish its timeout,
instead of stalling every consumer of the service behind a container-wide lock.
"""
from __future__ import annotations

import logging
import socket
import threading

import amqp
from nameko.extensions import SharedExtension

from ..contracts import topology
from . import broker
from .parking import park_message

log = logging.getLogger(__name__)

CONFIRM_TIMEOUT = 10.0
HEARTBEAT = 30
POOL_SIZE = 4


def keepalive(conn) -> None:
    """Read what the broker sent (its heartbeats) and send ours; raises if the connection is
    dead, so a connection that sat idle is found dead before it is used."""
    try:
        conn.drain_events(timeout=0.01)
    except socket.timeout:
        pass
    conn.heartbeat_check()


class ChannelPool:
    """Idle confirmed channels; the lock guards only the list, never a network call."""

    def __init__(self, amqp_uri: str, *, heartbeat: int = HEARTBEAT, size: int = POOL_SIZE):
        self.amqp_uri = amqp_uri
        self.heartbeat = heartbeat
        self.size = size
        self._idle: list[tuple[object, object]] = []
        self._lock = threading.Lock()

    def _open(self):
        conn = broker.connection(self.amqp_uri, heartbeat=self.heartbeat,
                                 io_timeout=CONFIRM_TIMEOUT)
        conn.ensure_connection(max_retries=1, interval_start=0)
        channel = conn.channel()
        channel.confirm_select()
        return conn, channel

    def _checkout(self):
        while True:
            with self._lock:
                item = self._idle.pop() if self._idle else None
            if item is None:
                return self._open()
            try:
                keepalive(item[0])
                return item
            except Exception:
                discard(item[0])

    def _checkin(self, item) -> None:
        with self._lock:
            if len(self._idle) < self.size:
                self._idle.append(item)
                return
        _release(item[0])

    def run(self, fn, attempts: int = 2):
        """``fn(channel)`` on a pooled channel; a failure closes that connection and tries
        once more on a new one, then raises."""
        for attempt in range(attempts):
            item = self._checkout()
            try:
                result = fn(item[1])
            except Exception:
                discard(item[0])
                if attempt == attempts - 1:
                    raise
                continue
            self._checkin(item)
            return result

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn, _channel in idle:
            _release(conn)


def _release(conn) -> None:
    try:
        conn.release()
    except Exception:
        pass


def discard(conn) -> None:
    """Drop a connection that failed without the closing handshake (a broker that blocks
    publishers would never answer it: a graceful close could wait forever)."""
    try:
        conn.collect()
    except Exception:
        pass


class FailurePublisher(SharedExtension):
    """Retry and parking publishes of one container (see the module's docstring)."""

    confirm_timeout = CONFIRM_TIMEOUT

    def setup(self):
        self.pool = ChannelPool(self.container.config["AMQP_URI"],
                                heartbeat=self.container.config.get("HEARTBEAT", HEARTBEAT))

    def publish_retry(self, queue_name: str, message, attempts: int, delay_ms: int) -> None:
        headers = dict(message.headers or {})
        headers["x-attempts"] = attempts
        props = {k: v for k, v in message.properties.items()
                 if k in ("content_type", "content_encoding", "message_id", "type")}
        msg = amqp.Message(message.body, application_headers=headers, delivery_mode=2, **props)
        self.pool.run(lambda channel: channel.basic_publish_confirm(
            msg, exchange="", routing_key=topology.retry_queue(queue_name, delay_ms),
            confirm_timeout=self.confirm_timeout))

    def park(self, service: str, queue_name: str, message, reason: str, attempts: int) -> str:
        return self.pool.run(lambda channel: park_message(
            channel, service, body=message.body, properties=message.properties,
            headers=message.headers, queue=queue_name, reason=reason, attempts=attempts,
            confirm_timeout=self.confirm_timeout))

    def stop(self):
        self.pool.close()

    def kill(self):
        self.pool.close()
