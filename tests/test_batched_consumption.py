"""``@consume_events(queue, batch=N)`` and ``MessageBus.handle_events`` against the real
RabbitMQ, on SQLite and PostgreSQL: prefetched messages are handled together in one unit of
work, a poison message among them is parked alone while the others take effect once, and a
redelivered batch has no second effect."""
from __future__ import annotations

import collections
import json

import pytest
from nameko.containers import ServiceContainer
from sqlalchemy import func, select

from aftersales.db import session_factory
from aftersales.errors import ParkMessage
from aftersales.messagebus import MessageBus
from aftersales.messaging.entrypoint import consume_events
from aftersales.messaging.parking import ParkingLot
from aftersales.outbox import UnitOfWork, inbox, make_envelope
from tests.support.broker import publish_raw, wait_parked
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

QUEUE = "aftersales.feedback.events"
STATE: dict = {"bus": None, "batches": [], "calls": collections.Counter()}


def _on_closed(uow, env):
    STATE["calls"][env.ticket_no] += 1
    if env.data["rework_count"] == 99:
        raise ParkMessage("poison (test)")


class BatchFeedback:
    name = "feedback"

    @consume_events(QUEUE, batch=16)
    def on_event(self, envelopes):
        STATE["batches"].append(len(envelopes))
        STATE["bus"].handle_events(envelopes)


def _env(ticket_no, rework=0):
    at = "2026-11-22T15:00:00+08:00"
    return make_envelope("dispatch", "job_closed", {
        "ticket_no": ticket_no, "engineer_id": "SH-E001", "priority": "C", "category": "fault",
        "completed_at": at, "signed_off_at": at, "closed_at": at, "visits": 1,
        "rework_count": rework, "first_time_fix": True}, ticket_no=ticket_no, branch="SH")


def _publish(uri, envs):
    for env in envs:
        publish_raw(uri, "dispatch.events", "job_closed", json.dumps(env.to_json_dict()).encode())


def _processed(engine, envs) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(inbox).where(
            inbox.c.event_id.in_([str(e.event_id) for e in envs]))).scalar_one()


@pytest.fixture
def batch_consumer(services, intake_db):
    STATE.update(batches=[], calls=collections.Counter())
    STATE["bus"] = MessageBus(lambda: UnitOfWork(session_factory(intake_db), "feedback"),
                              events={"job_closed": _on_closed})

    def start():
        c = ServiceContainer(BatchFeedback, services.config("feedback"))
        c.start()
        services.containers["batch"] = c
        return c
    return start


def test_prefetched_messages_are_handled_and_committed_together(batch_consumer, services,
                                                                 intake_db):
    envs = [_env(f"T-BATCH-{i}") for i in range(12)]
    _publish(services.broker_uri, envs)       # waiting before the consumer starts: prefetched
    batch_consumer()
    wait_until(lambda: _processed(intake_db, envs) == 12, what="12 events processed")
    wait_until(lambda: sum(STATE["batches"]) >= 12, what="every message handed over")
    assert sum(STATE["batches"]) == 12 and max(STATE["batches"]) > 1, STATE["batches"]
    assert all(STATE["calls"][e.ticket_no] == 1 for e in envs)


def test_a_poison_message_among_n_parks_alone_and_the_others_take_effect_once(
        batch_consumer, services, intake_db):
    good = [_env(f"T-MIX-{i}") for i in range(6)]
    poison = _env("T-MIX-POISON", rework=99)
    _publish(services.broker_uri, good[:3] + [poison] + good[3:])
    batch_consumer()
    lot = ParkingLot(services.broker_uri, "feedback")
    [parked] = wait_parked(lot, 1)
    assert "poison (test)" in parked.reason
    wait_until(lambda: _processed(intake_db, good) == 6, what="the 6 good events processed")
    assert _processed(intake_db, [poison]) == 0
    # the batch ran each handler once, was rolled back, then each message alone: the good
    # ones committed exactly once (one inbox row each, checked above), the poison was parked
    assert max(STATE["batches"]) > 1, STATE["batches"]
    assert all(STATE["calls"][e.ticket_no] <= 2 for e in good)


def test_a_redelivered_batch_has_no_second_effect(batch_consumer, services, intake_db):
    envs = [_env(f"T-AGAIN-{i}") for i in range(8)]
    _publish(services.broker_uri, envs)
    batch_consumer()
    wait_until(lambda: _processed(intake_db, envs) == 8, what="8 events processed")
    wait_until(lambda: sum(STATE["batches"]) >= 8, what="every message handed over")
    calls = dict(STATE["calls"])
    _publish(services.broker_uri, envs)        # the same events again (same event ids)
    wait_until(lambda: sum(STATE["batches"]) >= 16, what="the redeliveries handed over")
    assert dict(STATE["calls"]) == calls       # no handler ran again: the inbox absorbed them
    assert _processed(intake_db, envs) == 8
    assert ParkingLot(services.broker_uri, "feedback").list() == []
