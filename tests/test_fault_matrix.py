"""The fault matrix: the four services as real processes on a private RabbitMQ node, with
intake's and dispatch's databases on PostgreSQL behind a TCP proxy (parts and feedback on
SQLite), while phone centers keep publishing requests:

- the broker is restarted three times (``stop_app``/``start_app`` twice, a ``kill -9`` of the
  broker's VM once): every service is still the same process afterwards;
- each service is SIGKILLed and started again;
- the PostgreSQL databases are unreachable for far longer than the retry budget.

After each, every request has exactly one ticket and exactly one ``engineer_assigned`` or
``assignment_failed``: nothing lost, nothing doubled, nothing parked.
"""
from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from urllib.parse import urlsplit

import amqp
import pytest
import requests
from kombu import Connection
from sqlalchemy import create_engine, text

from aftersales.contracts import topology
from aftersales.registry import SERVICES
from tests.support import private_broker
from tests.support.data import repair_request
from tests.support.fixtures import PG_ADMIN_URL, PgDatabases, _pg_available
from tests.support.processes import System
from tests.support.tcp_proxy import Proxy
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

WATCH = "test.fault.watch"
OUTCOMES = ("engineer_assigned", "assignment_failed")
PG_SERVICES = ("intake", "dispatch")


@pytest.fixture(scope="module")
def broker():
    if not private_broker.available():
        pytest.skip("needs an installed rabbitmq-server (/usr/lib/rabbitmq/bin) for a private node")
    node = private_broker.PrivateBroker().start()
    yield node
    node.close()


@pytest.fixture(scope="module")
def system(broker, tmp_path_factory):
    if not _pg_available():
        pytest.skip("PostgreSQL is not reachable (set AFTERSALES_TEST_PG)")
    pg = PgDatabases()
    target = urlsplit(PG_ADMIN_URL)
    proxy = Proxy(target.hostname or "127.0.0.1", target.port or 5432)
    proxy.up()
    direct = {name: pg.create(name) for name in PG_SERVICES}
    sys_ = System(broker.uri, tmp_path_factory.mktemp("fault"),
                  AFTERSALES_TRANSIENT_BACKOFF_MAX="2", AFTERSALES_HEARTBEAT="10")
    for name, url in direct.items():
        sys_.env[f"{name.upper()}_DATABASE_URL"] = url.replace(
            f"{target.hostname}:{target.port or 5432}", f"127.0.0.1:{proxy.port}")
    _declare_watch(broker.uri)
    sys_.start()
    sys_.proxy, sys_.direct = proxy, direct
    yield sys_
    sys_.close()
    proxy.close()
    pg.drop_all()


# -- the phone centers' stream and what came out of it -------------------------------------
def _declare_watch(uri: str) -> None:
    """A durable queue that sees every ticket_opened and assignment outcome (it survives the
    broker's restarts, so nothing is missed while a test's connection is down)."""
    with Connection(uri) as conn:
        ch = conn.channel()
        ch.queue_declare(WATCH, durable=True, auto_delete=False)
        for ex in topology.exchanges():
            ch.exchange_declare(ex, "topic", durable=True, auto_delete=False)
        ch.queue_bind(WATCH, "intake.events", "ticket_opened")
        for key in OUTCOMES:
            ch.queue_bind(WATCH, "dispatch.events", key)


class Stream(threading.Thread):
    """Publishes ``n`` repair requests in bursts of ``burst``, one burst every ``pace`` seconds
    (so that messages are in flight whenever a fault strikes), each with its own asset; like a
    phone center, retries a request (same request_id) until the broker confirms it."""

    def __init__(self, uri: str, n: int, pace: float = 0.4, burst: int = 5):
        super().__init__(daemon=True)
        self.uri, self.n, self.pace, self.burst = uri, n, pace, burst
        self.sent: list[str] = []
        self.error: BaseException | None = None

    def run(self):
        conn = None
        try:
            for i in range(self.n):
                body = repair_request(asset={"serial_no": f"FAULT-{uuid.uuid4().hex[:8]}"})
                raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
                deadline = time.monotonic() + 120
                while True:
                    try:
                        if conn is None:
                            conn = Connection(self.uri, connect_timeout=2)
                            conn.ensure_connection(max_retries=1)
                        conn.default_channel.basic_publish_confirm(
                            amqp.Message(raw, content_type="application/json",
                                         content_encoding="utf-8", delivery_mode=2),
                            exchange=topology.PHONE_CENTER_EXCHANGE,
                            routing_key=topology.REPAIR_REQUESTED, mandatory=True,
                            confirm_timeout=5)
                        break
                    except Exception:
                        if time.monotonic() > deadline:
                            raise
                        _release(conn)
                        conn = None
                        time.sleep(0.2)  # ok: a phone center's pause before publishing again
                self.sent.append(body["request_id"])
                if (i + 1) % self.burst == 0:
                    time.sleep(self.pace)  # ok: the pace of the stream, not a synchronisation
        except BaseException as exc:  # reported by finish()
            self.error = exc
        finally:
            _release(conn)

    def finish(self) -> list[str]:
        self.join(timeout=300)
        assert self.error is None, f"the stream failed: {self.error!r}"
        assert len(self.sent) == self.n
        return self.sent


def _release(conn) -> None:
    if conn is not None:
        try:
            conn.release()
        except Exception:
            pass


class Outcomes:
    """What the watch queue saw, by event id (a re-published event counts once)."""

    def __init__(self):
        self.opened: dict[str, set[tuple[str, bool]]] = {}    # request_id -> {(ticket_no, dup)}
        self.assigned: dict[str, set[str]] = {}               # ticket_no -> {event_id}
        self.seen: set[str] = set()

    def drain(self, uri: str) -> None:
        try:
            with Connection(uri, connect_timeout=2) as conn:
                ch = conn.channel()
                while (m := ch.basic_get(WATCH, no_ack=True)) is not None:
                    self._add(json.loads(m.body))
        except (OSError, amqp.exceptions.AMQPError, socket.timeout):
            pass   # the broker is not back yet: try again on the next probe

    def _add(self, doc: dict) -> None:
        if doc["event_id"] in self.seen:
            return
        self.seen.add(doc["event_id"])
        if doc["type"] == "ticket_opened":
            self.opened.setdefault(doc["data"]["request_id"], set()).add(
                (doc["ticket_no"], bool(doc["data"].get("duplicate"))))
        else:
            self.assigned.setdefault(doc["ticket_no"], set()).add(doc["event_id"])

    def tickets(self, request_ids) -> dict[str, str]:
        return {r: t for r in request_ids for (t, dup) in self.opened.get(r, ()) if not dup}

    def complete(self, request_ids) -> bool:
        tickets = self.tickets(request_ids)
        return len(tickets) == len(request_ids) and all(t in self.assigned for t in tickets.values())


def assert_each_request_once(system, outcomes: Outcomes, request_ids: list[str]) -> None:
    def done():
        outcomes.drain(system.env["AMQP_URI"])
        return outcomes.complete(request_ids)
    wait_until(done, timeout=120, interval=0.5, what="a ticket and an assignment for every request")
    for r in request_ids:
        ticket_nos = {t for (t, _dup) in outcomes.opened[r]}
        assert len(ticket_nos) == 1, f"request {r} answered with tickets {ticket_nos}"
    tickets = outcomes.tickets(request_ids)
    assert len(set(tickets.values())) == len(request_ids), "two requests share a ticket"
    for r, t in tickets.items():
        assert len(outcomes.assigned[t]) == 1, f"{t} has {len(outcomes.assigned[t])} assignment outcomes"
    # the intake database agrees: one ticket per request, none doubled
    engine = create_engine(system.direct["intake"])
    with engine.connect() as c:
        rows = c.execute(text("SELECT request_id, count(*) FROM tickets GROUP BY request_id")).all()
    engine.dispose()
    counts = dict(rows)
    assert all(counts.get(r) == 1 for r in request_ids), {r: counts.get(r) for r in request_ids}
    assert_nothing_parked(system)


def assert_nothing_parked(system) -> None:
    with Connection(system.env["AMQP_URI"]) as conn:
        ch = conn.channel()
        parked = {s: ch.queue_declare(topology.parking_queue(s), passive=True).message_count
                  for s in SERVICES}
    assert parked == {s: 0 for s in SERVICES}, parked


def health(system, name):
    try:
        r = requests.get(system.url(name, "/health"), timeout=5)
        return r.status_code, r.json()
    except requests.RequestException as exc:
        return None, str(exc)


# -- the matrix ----------------------------------------------------------------------------
def test_three_broker_restarts_during_a_stream_lose_and_double_nothing_and_no_service_exits(
        system, broker):
    pids = system.pids()
    outcomes = Outcomes()
    stream = Stream(broker.uri, 60)
    stream.start()
    wait_until(lambda: len(stream.sent) >= 10, timeout=60, what="the stream to be under way")
    broker.stop_app()
    # meanwhile every service reports the broker down (and keeps serving HTTP)
    for name in SERVICES:
        wait_until(lambda: health(system, name)[0] == 503, timeout=30,
                   what=f"{name} to report the broker down")
        assert health(system, name)[1]["checks"]["broker"]["ok"] is False
    broker.start_app()
    wait_until(lambda: len(stream.sent) >= 25, timeout=90, what="the stream to go on")
    broker.stop_app()
    broker.start_app()
    wait_until(lambda: len(stream.sent) >= 40, timeout=90, what="the stream to go on")
    broker.kill9_and_restart()
    sent = stream.finish()

    assert_each_request_once(system, outcomes, sent)
    assert system.pids() == pids, "a service process exited or was replaced"
    for name in SERVICES:
        wait_until(lambda: health(system, name)[0] == 200, timeout=60,
                   what=f"{name} to report healthy again")


def test_each_service_killed_and_restarted_during_a_stream_loses_and_doubles_nothing(
        system, broker):
    outcomes = Outcomes()
    stream = Stream(broker.uri, 40)
    stream.start()
    for name in SERVICES:
        wait_until(lambda: len(stream.sent) >= 5, timeout=60, what="the stream to be under way")
        before = len(stream.sent)
        system.kill9_and_restart(name)
        wait_until(lambda: len(stream.sent) > before or not stream.is_alive(), timeout=60,
                   what="the stream to go on")
    sent = stream.finish()
    assert_each_request_once(system, outcomes, sent)


def test_a_database_outage_longer_than_the_retry_budget_parks_nothing_and_loses_nothing(
        system, broker):
    outcomes = Outcomes()
    stream = Stream(broker.uri, 30, pace=0.5, burst=3)
    stream.start()
    wait_until(lambda: len(stream.sent) >= 5, timeout=60, what="the stream to be under way")
    system.proxy.cut()
    try:
        # the retry budget is 0.4 s (AFTERSALES_RETRY_DELAYS_MS=100,300): the outage lasts as
        # long as the stream takes to publish most of its requests, many times that budget
        wait_until(lambda: health(system, "intake")[0] == 503, timeout=30,
                   what="intake to report its database down")
        status, doc = health(system, "intake")
        assert doc["checks"]["database"]["ok"] is False
        # intake's consumers found the database gone: they take no new messages meanwhile
        wait_until(lambda: health(system, "intake")[1]["checks"]["database"]["messages_paused"],
                   timeout=30, what="intake to pause its consumers")
        wait_until(lambda: len(stream.sent) >= 25, timeout=60, what="most of the stream")
        assert_nothing_parked(system)
    finally:
        system.proxy.up()
    sent = stream.finish()
    assert_each_request_once(system, outcomes, sent)
    assert all(p is not None for p in system.pids().values())


def test_a_broker_that_blocks_publishers_costs_a_publish_its_confirm_timeout_not_a_hang(
        broker, tmp_path):
    from aftersales.contracts.envelope import utcnow
    from aftersales.db import make_engine, migrate
    from aftersales.messaging.publisher import ChannelPool
    from aftersales.messaging.relay import OutboxRelay, PublishError
    from aftersales.outbox import outbox
    from aftersales.registry import migrations_dir

    engine = make_engine(f"sqlite:///{tmp_path / 'intake.db'}")
    migrate(engine, migrations_dir("intake"))
    with engine.begin() as c:
        c.execute(outbox.insert().values(
            event_id=str(uuid.uuid4()), exchange="intake.events", routing_key="request_rejected",
            body="{}", created_at=utcnow(), attempts=0))
    relay = OutboxRelay(engine, broker.uri, [100], confirm_timeout=1.0)
    pool = ChannelPool(broker.uri, heartbeat=10)
    broker.ctl("set_vm_memory_high_watermark", "0")      # a memory alarm: publishers blocked
    try:
        wait_until(lambda: "memory alarm" in broker.diagnostics("alarms").lower(), timeout=30,
                   what="the memory alarm")
        started = time.monotonic()
        with pytest.raises(Exception):
            pool.run(lambda ch: ch.basic_publish_confirm(
                amqp.Message(b"{}", delivery_mode=2), exchange="", routing_key=WATCH,
                confirm_timeout=1.0))
        with pytest.raises(PublishError):
            relay.publish_pending()
        relay._close(graceful=False)
        assert time.monotonic() - started < 15, "a publish waited far beyond its timeout"
        with engine.connect() as c:   # the row stays, to go out once the alarm clears
            assert c.execute(text("SELECT published_at FROM outbox")).scalar_one() is None
    finally:
        broker.ctl("set_vm_memory_high_watermark", "0.4")
    wait_until(lambda: "memory alarm" not in broker.diagnostics("alarms").lower(), timeout=30,
               what="the memory alarm to clear")
    assert wait_until(lambda: relay.publish_pending() == 1, timeout=30, what="the row to go out")
    relay._close()
    pool.close()
    engine.dispose()
