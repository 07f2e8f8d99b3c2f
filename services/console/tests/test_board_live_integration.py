"""The console's live consumer on the real RabbitMQ: every console instance hears every
ticket event (each on a queue of its own, exclusive and gone with its connection), the
platform's durable queues still get theirs, and the console declares no durable queue."""
from __future__ import annotations

import threading
import uuid

import pytest
from amqp.exceptions import NotFound, ResourceLocked
from kombu import Connection

from aftersales.clock import utcnow
from aftersales.contracts import topology
from aftersales.contracts.envelope import Envelope
from aftersales.messaging import broker as platform_broker
from services.console.adapters.live_bus import LiveConsumer, live_bindings, live_queue
from services.console.domain.live import BOARD_EVENTS
from services.console.service_layer.live import Hub
from tests.support.broker import publish_event, publish_raw
from tests.support.fixtures import RETRY_DELAYS_MS
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def _envelope(type_, source, branch="SH"):
    return Envelope(event_id=uuid.uuid4(), type=type_, version=1, occurred_at=utcnow(),
                    source=source, ticket_no=f"{branch}-20261204-0042", branch=branch,
                    data={"customer": {"phone": "13800000000"}})


def test_the_console_needs_no_durable_queue_and_binds_every_board_event():
    assert [q.name for q in topology.queues_of("console")] == [topology.keys_queue("console")]
    keys = {key for _, key in live_bindings()}
    assert set(BOARD_EVENTS) <= keys and "key_revoked" not in keys
    q = live_queue("x")
    assert q.exclusive and q.auto_delete and not q.durable
    assert {b.exchange.name for b in q.bindings} <= set(topology.exchanges())
    assert all(b.exchange.durable and not b.exchange.auto_delete for b in q.bindings)


@pytest.fixture
def consumers(clean_broker):
    started = []

    def start():
        hub = Hub()
        c = LiveConsumer(clean_broker, hub.publish)
        t = threading.Thread(target=c.run, daemon=True)
        t.start()
        assert c.connected.wait(10), "the live consumer did not connect"
        started.append((c, t))
        return hub, c
    yield start
    for c, t in started:
        c.stop()
        t.join(5)


def test_every_instance_hears_every_event_and_the_durable_queues_still_get_theirs(
        clean_broker, consumers):
    (hub1, _), (hub2, _) = consumers(), consumers()
    sh1, sh2, hz = hub1.subscribe("SH"), hub2.subscribe("SH"), hub2.subscribe("HZ")
    publish_raw(clean_broker, "intake.events", "ticket_opened", b"\xff not json")  # skipped
    publish_event(clean_broker, _envelope("ticket_opened", "intake"))
    publish_event(clean_broker, _envelope("engineer_assigned", "dispatch"))
    for sub in (sh1, sh2):
        first, second = sub.next(5), sub.next(5)
        assert (first.type, second.type) == ("ticket_opened", "engineer_assigned")
        assert first.ticket_no == "SH-20261204-0042" and first.branch == "SH"
    assert hz.next(0.2) is None
    with Connection(clean_broker) as conn:
        ch = conn.channel()
        platform_broker.declare_topology(ch, RETRY_DELAYS_MS)
        # dispatch's durable queue consumes ticket_opened: it was not taken from it
        assert platform_broker.queue_depth(ch, "aftersales.dispatch.events") >= 1


def test_the_queue_is_exclusive_and_goes_with_its_consumer(clean_broker, consumers):
    _, c = consumers()
    name = c.queue_name
    assert _state(clean_broker, name) == "locked"        # exclusive to its connection
    c.stop()
    assert wait_until(lambda: _state(clean_broker, name) == "gone", timeout=5,
                      what="the live queue deleted")


def _state(uri, name) -> str:
    with Connection(uri) as conn:
        try:
            conn.channel().queue_declare(name, passive=True)
            return "there"
        except ResourceLocked:
            return "locked"
        except NotFound:
            return "gone"
