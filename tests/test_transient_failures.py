"""Transient failures and separate budgets, with services as nameko containers on the real
RabbitMQ:

- a database that goes away (PostgreSQL behind a TCP proxy that the test cuts) for far longer
  than the retry budget: the consumer stops taking messages, parks nothing, and handles every
  message exactly once when the database is back;
- a burst of slow messages cannot starve HTTP requests or a timer: messages get fewer workers
  than the pool.
"""
from __future__ import annotations

import collections
import json
import threading
from urllib.parse import urlsplit

import pytest
import requests
from kombu import Connection
from nameko.containers import ServiceContainer
from nameko.extensions import DependencyProvider
from nameko.timer import timer
from nameko.web.handlers import http
from sqlalchemy import create_engine, text

from aftersales.contracts import topology
from aftersales.db import ping
from aftersales.messaging.availability import Availability, message_workers
from aftersales.messaging.entrypoint import consume_events
from aftersales.messaging.parking import ParkingLot
from aftersales.outbox import make_envelope
from tests.support.broker import publish_raw
from tests.support.fixtures import PG_ADMIN_URL, RETRY_DELAYS_MS
from tests.support.tcp_proxy import Proxy
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

QUEUE = "aftersales.feedback.events"


def _job_closed(ticket_no: str) -> bytes:
    at = "2026-11-22T15:00:00+08:00"
    env = make_envelope("dispatch", "job_closed", {
        "ticket_no": ticket_no, "engineer_id": "SH-E001", "priority": "C", "category": "fault",
        "completed_at": at, "signed_off_at": at, "closed_at": at, "visits": 1,
        "rework_count": 0, "first_time_fix": True}, ticket_no=ticket_no, branch="SH")
    return json.dumps(env.to_json_dict()).encode()


def _depth(uri: str, queue: str) -> int:
    with Connection(uri) as conn:
        return conn.channel().queue_declare(queue, passive=True).message_count


def _start(services, cls, **overrides):
    container = ServiceContainer(cls, services.config("feedback", **overrides))
    container.start()
    services.containers[cls.__name__] = container
    return container


def _gate(container) -> Availability:
    [gate] = [e for e in container.subextensions if isinstance(e, Availability)]
    return gate


# -- a database outage ------------------------------------------------------------------------
CALLS = collections.Counter()
PROBES = collections.Counter()


class HandledTable(DependencyProvider):
    """The test service's database: one table of handled tickets, reached through the URL in
    the service's ``database_url`` (the proxy); tells the consumers' gate how to probe it."""

    availability = Availability()

    def setup(self):
        self.engine = create_engine(self.container.config["AFTERSALES"]["database_url"],
                                    pool_pre_ping=True)

        def probe():
            PROBES["n"] += 1
            ping(self.engine)
        self.availability.probe = probe

    def stop(self):
        self.engine.dispose()

    def get_dependency(self, worker_ctx):
        return self.engine


class RecordingFeedback:
    name = "feedback"
    db = HandledTable()

    @consume_events(QUEUE)
    def on_event(self, envelope):
        CALLS["n"] += 1
        with self.db.begin() as c:
            c.execute(text("INSERT INTO handled (ticket_no) VALUES (:t)"), {"t": envelope.ticket_no})


@pytest.fixture
def pg_behind_proxy(database_urls, db_backend):
    if db_backend != "postgresql":
        pytest.skip("the outage is of a PostgreSQL server")
    direct = database_urls["feedback"]
    engine = create_engine(direct)
    with engine.begin() as c:
        c.execute(text("CREATE TABLE handled (ticket_no VARCHAR(40) NOT NULL)"))
    target = urlsplit(PG_ADMIN_URL)
    proxy = Proxy(target.hostname or "127.0.0.1", target.port or 5432)
    proxy.up()
    via_proxy = direct.replace(f"{target.hostname}:{target.port or 5432}", f"127.0.0.1:{proxy.port}")
    yield engine, via_proxy, proxy
    proxy.close()
    engine.dispose()


@pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)
def test_a_database_outage_pauses_consumption_parks_nothing_and_loses_nothing(
        services, pg_behind_proxy):
    engine, via_proxy, proxy = pg_behind_proxy
    CALLS.clear()
    PROBES.clear()
    container = _start(services, RecordingFeedback, database_url=via_proxy, max_workers=4,
                       transient_backoff_max_s=1.0)
    budget = message_workers(container.config)
    proxy.cut()
    tickets = [f"T-OUTAGE-{i:02d}" for i in range(12)]
    for t in tickets:
        publish_raw(services.broker_uri, "dispatch.events", "job_closed", _job_closed(t))
    gate = _gate(container)
    wait_until(lambda: not gate.database_up, what="the consumers to see the database down")
    # the outage outlasts the retry budget (100 ms + 300 ms) many times over: several probes
    wait_until(lambda: PROBES["n"] >= 4, timeout=30, what="four probes of the database")
    assert CALLS["n"] <= 2 * budget, f"{CALLS['n']} tries while the database was down"
    assert _depth(services.broker_uri, QUEUE) >= len(tickets) - 2 * budget  # left in the queue
    lot = ParkingLot(services.broker_uri, "feedback", RETRY_DELAYS_MS)
    assert lot.list() == []

    proxy.up()

    def handled():
        with engine.connect() as c:
            return collections.Counter(c.execute(text("SELECT ticket_no FROM handled")).scalars())
    wait_until(lambda: len(handled()) == len(tickets), timeout=30, what="every message handled")
    assert handled() == {t: 1 for t in tickets}
    assert gate.database_up and lot.list() == []


# -- separate budgets ------------------------------------------------------------------------
STARTED = collections.Counter()
TICKS = collections.Counter()
RELEASE = threading.Event()


class BusyFeedback:
    """Messages that take long (they wait for RELEASE), an HTTP endpoint and a timer."""

    name = "feedback"

    @consume_events(QUEUE)
    def on_event(self, envelope):
        STARTED["n"] += 1
        RELEASE.wait(60)

    @http("GET", "/ping")
    def ping(self, request):
        return 200, "pong"

    @timer(interval=0.05)
    def tick(self):
        TICKS["n"] += 1


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
def test_a_burst_of_slow_messages_cannot_starve_http_requests_or_the_timer(services):
    STARTED.clear()
    TICKS.clear()
    RELEASE.clear()
    container = _start(services, BusyFeedback, max_workers=4)
    budget = message_workers(container.config)
    assert budget < 4
    try:
        for i in range(10):
            publish_raw(services.broker_uri, "dispatch.events", "job_closed",
                        _job_closed(f"T-BUSY-{i:02d}"))
        wait_until(lambda: STARTED["n"] >= budget, what="the message workers to be busy")
        ticks = TICKS["n"]
        r = requests.get(services.url("feedback", "/ping"), timeout=5)
        assert (r.status_code, r.text) == (200, "pong")
        wait_until(lambda: TICKS["n"] >= ticks + 3, timeout=5, what="the timer to go on ticking")
        assert STARTED["n"] == budget   # no more messages taken than the budget
    finally:
        RELEASE.set()
    wait_until(lambda: STARTED["n"] == 10, what="every message handled")
