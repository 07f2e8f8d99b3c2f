"""Test helpers that talk to the real RabbitMQ: a per-session virtual host, publishing as a
phone center does, and an event watcher that waits for events instead of sleeping."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import uuid
from urllib.parse import quote

import amqp
from kombu import Connection

from aftersales.config import DEFAULT_AMQP_URI
from aftersales import registry
from aftersales.contracts import topology
from aftersales.messaging.broker import declare_topology


def base_uri() -> str:
    return os.environ.get("AMQP_URI", DEFAULT_AMQP_URI)


def broker_reachable(uri: str) -> bool:
    try:
        with Connection(uri, connect_timeout=3) as c:
            c.ensure_connection(max_retries=1)
        return True
    except Exception:
        return False


def rabbitmqctl(*args: str) -> bool:
    exe = shutil.which("rabbitmqctl")
    if not exe:
        return False
    return subprocess.run([exe, *args], capture_output=True, timeout=60).returncode == 0


def make_vhost() -> str | None:
    """A fresh vhost on the local broker (via rabbitmqctl), or None when that is not possible."""
    name = f"aftersales_test_{uuid.uuid4().hex[:8]}"
    if rabbitmqctl("add_vhost", name) and rabbitmqctl("set_permissions", "-p", name, "guest",
                                                      ".*", ".*", ".*"):
        return name
    return None


def uri_with_vhost(uri: str, vhost: str) -> str:
    head = uri.rstrip("/")
    if head.count("/") > 2:   # already names a vhost
        head = head.rsplit("/", 1)[0]
    return f"{head}/{quote(vhost, safe='')}"


def purge_all(uri: str, retry_delays_ms) -> None:
    with Connection(uri) as conn:
        ch = conn.channel()
        declare_topology(ch, retry_delays_ms)
        for q in topology.QUEUES:
            ch.queue_purge(q.name)
            for d in retry_delays_ms:
                ch.queue_purge(topology.retry_queue(q.name, d))
        for s in registry.SERVICES:
            ch.queue_purge(topology.parking_queue(s))


def publish_raw(uri: str, exchange: str, routing_key: str, body: bytes,
                content_type="application/json", headers=None) -> None:
    with Connection(uri) as conn:
        ch = conn.channel()
        ch.exchange_declare(exchange, "topic", durable=True, auto_delete=False)
        ch.basic_publish_confirm(
            amqp.Message(body, content_type=content_type, content_encoding="utf-8",
                         delivery_mode=2, application_headers=headers or {}),
            exchange=exchange, routing_key=routing_key, mandatory=True)


def publish_request(uri: str, body: dict) -> None:
    """Publish a repair request exactly as PRODUCT.md says a phone center does."""
    publish_raw(uri, topology.PHONE_CENTER_EXCHANGE, topology.REPAIR_REQUESTED,
                json.dumps(body, ensure_ascii=False).encode("utf-8"))


class EventWatcher:
    """Sees every event published on the platform's exchanges (its own exclusive queue)."""

    def __init__(self, uri: str, retry_delays_ms=(100,)):
        self.conn = Connection(uri)
        self.ch = self.conn.channel()
        declare_topology(self.ch, list(retry_delays_ms))
        self.queue = f"test.watch.{uuid.uuid4().hex[:8]}"
        self.ch.queue_declare(self.queue, exclusive=True, auto_delete=True)
        for ex in topology.exchanges():
            self.ch.queue_bind(self.queue, ex, "#")
        self.events: list[dict] = []
        self.ch.basic_consume(self.queue, callback=self._on, no_ack=True)

    def _on(self, message):
        try:
            doc = json.loads(message.body)
        except (ValueError, RecursionError):   # a poison body published by a test
            doc = None
        if not isinstance(doc, dict):
            doc = {"_raw": message.body}
        doc["_routing_key"] = message.delivery_info.get("routing_key")
        self.events.append(doc)

    def wait_for(self, predicate, timeout=20.0, count=1) -> list[dict]:
        """Block until ``count`` events satisfy ``predicate`` (or fail after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while True:
            hits = [e for e in self.events if predicate(e)]
            if len(hits) >= count:
                return hits
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = [(e.get("type") or e.get("_routing_key"), e.get("ticket_no")) for e in self.events]
                raise AssertionError(f"timed out waiting for {count} matching event(s); saw {seen}")
            try:
                self.conn.drain_events(timeout=min(remaining, 0.5))
            except socket.timeout:
                pass

    def of_type(self, type_, timeout=20.0, count=1, **match):
        return self.wait_for(lambda e: e.get("type") == type_ and all(
            e.get(k) == v or e.get("data", {}).get(k) == v for k, v in match.items()),
            timeout=timeout, count=count)

    def close(self):
        try:
            self.conn.release()
        except Exception:
            pass


def wait_parked(lot, n: int, exclude=frozenset(), timeout: float = 10.0):
    """Wait until ``lot`` (a ParkingLot) holds at least ``n`` messages not in ``exclude``."""
    from .waiting import wait_until

    def probe():
        items = [p for p in lot.list() if p.parked_id not in exclude]
        return items if len(items) >= n else None
    return wait_until(probe, timeout=timeout, what=f"{n} parked message(s) in {lot.queue}")


def publish_event(uri: str, env) -> None:
    """Publish an enveloped event as its owning service's relay would (exchange
    ``<source>.events``, routing key = type)."""
    publish_raw(uri, f"{env.source}.events", env.type,
                json.dumps(env.to_json_dict(), ensure_ascii=False).encode("utf-8"))
