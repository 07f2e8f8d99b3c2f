"""The reliability core against the real RabbitMQ and real databases: outbox relay (broker
down, unroutable), bounded retries then parking, consumers started after the publish, and
at-most-one effect under concurrent redelivery."""
from __future__ import annotations

import collections
import json
import threading

import pytest
from sqlalchemy import select

from aftersales.contracts import topology
from aftersales.db import session_factory
from aftersales.messaging.entrypoint import consume_events
from aftersales.messaging.parking import ParkingLot
from aftersales.messaging.relay import OutboxRelay
from aftersales.outbox import UnitOfWork, make_envelope, outbox
from tests.support.broker import publish_raw, publish_request, wait_parked
from tests.support.data import repair_request
from tests.support.fixtures import RETRY_DELAYS_MS

pytestmark = pytest.mark.integration

UNREACHABLE = "pyamqp://guest:guest@127.0.0.1:1//"



def _completed(ticket_no="SH-20261122-0001"):
    return make_envelope("dispatch", "job_completed", {
        "ticket_no": ticket_no, "engineer_id": "SH-E001",
        "completed_at": "2026-11-22T15:00:00+08:00", "summary": "更换檩条两根",
        "parts_used": []}, ticket_no=ticket_no, branch="SH")


def test_an_event_committed_while_the_broker_is_down_goes_out_when_it_returns(intake_db, watcher):
    uow = UnitOfWork(session_factory(intake_db), "intake")
    with uow:
        env = uow.publish("request_rejected", {"request_id": "r-1", "source": "pc", "errors": [
            {"field": "fault.description", "message": "must not be empty"}]}, branch="SH")
        uow.commit()

    down = OutboxRelay(intake_db, UNREACHABLE, RETRY_DELAYS_MS)
    with pytest.raises(Exception):
        down.publish_pending()
    with intake_db.connect() as c:
        assert c.execute(select(outbox.c.published_at)).scalar_one() is None

    up = OutboxRelay(intake_db, watcher.conn.as_uri(include_password=True), RETRY_DELAYS_MS)
    assert up.publish_pending() == 1
    [seen] = watcher.of_type("request_rejected")
    assert seen["event_id"] == str(env.event_id)
    with intake_db.connect() as c:
        assert c.execute(select(outbox.c.published_at)).scalar_one() is not None
    assert up.publish_pending() == 0  # marked sent: not published twice
    up._close()


def test_an_unroutable_event_stays_in_the_outbox_until_its_queue_is_back(intake_db, clean_broker):
    from aftersales.contracts.envelope import utcnow
    from tests.support.broker import Connection
    relay = OutboxRelay(intake_db, clean_broker, RETRY_DELAYS_MS)
    relay._ensure_channel()                      # connected (and declared the topology) ...
    with Connection(clean_broker) as conn:      # ... then someone deleted the queues of
        ch = conn.channel()                     # ticket_opened's consumers (dispatch, feedback)
        for q in topology.QUEUES:
            if any(b.routing_key == "ticket_opened" for b in q.bindings):
                ch.queue_delete(q.name)
    with intake_db.begin() as c:
        c.execute(outbox.insert().values(event_id="00000000-0000-0000-0000-000000000001",
                                         exchange="intake.events", routing_key="ticket_opened",
                                         body="{}", created_at=utcnow(), attempts=0))
    assert relay.publish_pending() == 0
    with intake_db.connect() as c:
        row = c.execute(select(outbox)).mappings().one()
    assert row["published_at"] is None and row["attempts"] == 1
    assert "unroutable" in row["last_error"] and row["next_attempt_at"] is not None
    assert relay.publish_pending() == 0  # backing off: not retried at once
    # the relay declared the topology again; once the back-off has passed the event goes out
    with intake_db.begin() as c:
        c.execute(outbox.update().values(next_attempt_at=utcnow()))
    assert relay.publish_pending() == 1
    with Connection(clean_broker) as conn:
        assert conn.channel().queue_declare("aftersales.dispatch.events", passive=True).message_count == 1
    relay._close()


def test_a_request_published_before_intake_ever_ran_is_handled_when_it_starts(services, watcher):
    body = repair_request()
    publish_request(services.broker_uri, body)      # intake is not running
    services.start("intake")
    [opened] = watcher.of_type("ticket_opened", request_id=body["request_id"])
    assert opened["data"]["duplicate"] is False


def test_a_request_published_while_intake_is_stopped_is_handled_after_restart(services, watcher):
    services.start("intake")
    first = repair_request()
    publish_request(services.broker_uri, first)
    watcher.of_type("ticket_opened", request_id=first["request_id"])
    services.stop("intake")
    second = repair_request()
    publish_request(services.broker_uri, second)
    services.start("intake", seed=False)
    [opened] = watcher.of_type("ticket_opened", request_id=second["request_id"])
    assert opened["ticket_no"].endswith("-0002")


def test_concurrent_redelivery_of_one_request_opens_exactly_one_ticket(services, watcher):
    services.start("intake", max_workers=10)
    body = repair_request()
    for _ in range(100):
        publish_request(services.broker_uri, body)
    answers = watcher.of_type("ticket_opened", count=100, timeout=90, request_id=body["request_id"])
    assert len({a["ticket_no"] for a in answers}) == 1
    assert sorted(a["data"]["duplicate"] for a in answers) == [False] + [True] * 99


def test_a_redelivered_event_has_one_effect_on_the_timeline(services, watcher, http):
    from tests.support.fixtures import auth
    services.start("intake")
    body = repair_request()
    publish_request(services.broker_uri, body)
    ticket_no = watcher.of_type("ticket_opened", request_id=body["request_id"])[0]["ticket_no"]
    from aftersales.metrics import messages_handled_total
    # a redelivery handled after the first is "ok" (it finds its event id in the inbox); one
    # handled at the same moment loses the race on the inbox's key and is counted "duplicate"
    counters = [messages_handled_total.labels("intake", "aftersales.intake.events", outcome)
                for outcome in ("ok", "duplicate")]

    def handled() -> float:
        return sum(c._value.get() for c in counters)
    before = handled()
    env = _completed(ticket_no)
    raw = json.dumps(env.to_json_dict(), ensure_ascii=False).encode()
    publish_raw(services.broker_uri, "dispatch.events", "job_completed", raw)
    publish_raw(services.broker_uri, "dispatch.events", "job_completed", raw)
    from tests.support.waiting import wait_until

    def timeline():
        view = http.get(services.url("intake", f"/api/v1/tickets/{ticket_no}"), headers=auth()).json()
        return view if view["status"] == "completed" else None
    view = wait_until(timeline, what="the ticket to show completed")
    # both deliveries are acknowledged; only one is on the timeline
    wait_until(lambda: handled() >= before + 2, what="both deliveries handled")
    view = timeline()
    assert [e["type"] for e in view["timeline"]] == ["ticket_opened", "job_completed"]
    assert view["timeline"][1]["summary"] == "更换檩条两根"


# -- bounded retries, then parking: a consumer whose handler fails ----------------------------
ATTEMPTS: dict = collections.defaultdict(int)
DONE: dict = {}


class FlakyFeedback:
    """Consumes feedback's queue; fails as many times as the closed job's ``rework_count``."""

    name = "feedback"

    @consume_events("aftersales.feedback.events")
    def on_event(self, envelope):
        key = envelope.ticket_no
        ATTEMPTS[key] += 1
        if ATTEMPTS[key] <= int(envelope.data["rework_count"]):
            raise RuntimeError("database is locked (simulated transient failure)")
        DONE[key].set()


def _start_flaky(services):
    from nameko.containers import ServiceContainer
    c = ServiceContainer(FlakyFeedback, services.config("feedback"))
    c.start()
    services.containers["flaky"] = c


def _publish_failing(uri, ticket_no, failures):
    at = "2026-11-22T15:00:00+08:00"
    env = make_envelope("dispatch", "job_closed", {
        "ticket_no": ticket_no, "engineer_id": "SH-E001", "priority": "C", "category": "fault",
        "completed_at": at, "signed_off_at": at, "closed_at": at, "visits": 1,
        "rework_count": failures, "first_time_fix": False},
        ticket_no=ticket_no, branch="SH")
    DONE[ticket_no] = threading.Event()
    publish_raw(uri, "dispatch.events", "job_closed", json.dumps(env.to_json_dict()).encode())


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
def test_a_transient_failure_is_retried_with_back_off_and_then_succeeds(services):
    _start_flaky(services)
    _publish_failing(services.broker_uri, "T-RETRY-OK", failures=len(RETRY_DELAYS_MS))
    assert DONE["T-RETRY-OK"].wait(15), f"not handled; attempts={ATTEMPTS['T-RETRY-OK']}"
    assert ATTEMPTS["T-RETRY-OK"] == len(RETRY_DELAYS_MS) + 1
    assert ParkingLot(services.broker_uri, "feedback").list() == []


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
def test_a_message_that_keeps_failing_is_parked_with_its_reason_and_replayable(services):
    _start_flaky(services)
    _publish_failing(services.broker_uri, "T-RETRY-PARK", failures=99)
    lot = ParkingLot(services.broker_uri, "feedback")
    [parked] = wait_parked(lot, 1)
    assert ATTEMPTS["T-RETRY-PARK"] == len(RETRY_DELAYS_MS) + 1
    assert parked.reason.startswith(f"gave up after {len(RETRY_DELAYS_MS) + 1} attempts")
    assert "simulated transient failure" in parked.reason
    assert parked.original_queue == "aftersales.feedback.events"
    # the cause is fixed (it now fails less often than it will be tried); replay delivers it
    ATTEMPTS["T-RETRY-PARK"] = 99
    lot.replay(parked.parked_id)
    assert DONE["T-RETRY-PARK"].wait(10)
    assert lot.list() == []
