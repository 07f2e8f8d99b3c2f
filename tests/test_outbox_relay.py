"""The outbox relay against the real RabbitMQ and real databases: a row the broker refuses is
charged alone (its batch still goes out), its back-off is capped, it is parked after
``max_attempts`` and replayed on request; sent rows and old inbox ids are pruned."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from aftersales.contracts.envelope import utcnow
from aftersales.messaging.outbox_parking import parked_rows, replay_rows
from aftersales.messaging.relay import OutboxRelay
from aftersales.outbox import inbox, outbox
from tests.support.fixtures import RETRY_DELAYS_MS

pytestmark = pytest.mark.integration



def _row(engine, n: int, exchange="intake.events", attempts=0, **extra) -> int:
    with engine.begin() as c:
        return c.execute(outbox.insert().values(
            event_id=f"00000000-0000-0000-0000-{n:012d}", exchange=exchange,
            routing_key="request_rejected", body="{}", created_at=utcnow(), attempts=attempts,
            **extra)).inserted_primary_key[0]


def _get(engine, row_id):
    with engine.connect() as c:
        return c.execute(select(outbox).where(outbox.c.id == row_id)).mappings().one()


def _due_again(engine):
    with engine.begin() as c:
        c.execute(outbox.update().values(next_attempt_at=utcnow() - timedelta(seconds=1)))


def test_a_row_the_broker_refuses_is_charged_alone_and_the_rest_of_its_batch_goes_out(
        intake_db, watcher):
    uri = watcher.conn.as_uri(include_password=True)
    good1, bad, good2 = _row(intake_db, 1), _row(intake_db, 2, exchange="no.such.exchange"), \
        _row(intake_db, 3)
    relay = OutboxRelay(intake_db, uri, RETRY_DELAYS_MS)
    assert relay.publish_pending() == 2
    assert _get(intake_db, good1)["published_at"] is not None
    assert _get(intake_db, good2)["published_at"] is not None
    refused = _get(intake_db, bad)
    assert refused["published_at"] is None and refused["attempts"] == 1
    assert "no.such.exchange" in refused["last_error"]
    assert relay.publish_pending() == 0   # backing off, and the sent rows are not sent again
    watcher.wait_for(lambda e: e.get("_routing_key") == "request_rejected", count=2)
    assert len([e for e in watcher.events if e.get("_routing_key") == "request_rejected"]) == 2
    relay._close()


def test_the_back_off_of_a_row_refused_a_thousand_times_is_capped(intake_db, clean_broker):
    bad = _row(intake_db, 1, exchange="no.such.exchange", attempts=1024)
    relay = OutboxRelay(intake_db, clean_broker, RETRY_DELAYS_MS, max_attempts=10_000)
    before = utcnow()
    assert relay.publish_pending() == 0
    row = _get(intake_db, bad)
    assert row["attempts"] == 1025
    wait = row["next_attempt_at"].replace(tzinfo=before.tzinfo) - before
    assert timedelta(seconds=59) <= wait <= timedelta(seconds=61)
    relay._close()


def test_a_row_refused_max_attempts_times_is_parked_listed_and_replayed(intake_db, clean_broker):
    bad = _row(intake_db, 1, exchange="no.such.exchange")
    relay = OutboxRelay(intake_db, clean_broker, RETRY_DELAYS_MS, max_attempts=2)
    for _ in range(2):
        relay.publish_pending()
        _due_again(intake_db)
    assert _get(intake_db, bad)["attempts"] == 2
    assert relay.publish_pending() == 0              # parked: no longer tried
    assert _get(intake_db, bad)["attempts"] == 2
    [parked] = parked_rows(intake_db, max_attempts=2)
    assert parked["id"] == bad and "no.such.exchange" in parked["last_error"]
    # the operator fixes the cause (here: the row's exchange) and replays it
    with intake_db.begin() as c:
        c.execute(outbox.update().values(exchange="intake.events"))
    assert replay_rows(intake_db, 2, bad) == [bad]
    assert parked_rows(intake_db, max_attempts=2) == []
    assert relay.publish_pending() == 1
    assert _get(intake_db, bad)["published_at"] is not None
    with pytest.raises(LookupError):
        replay_rows(intake_db, 2, bad)
    relay._close()


def test_sent_rows_and_inbox_ids_older_than_their_retention_are_pruned(intake_db, clean_broker):
    now = utcnow()
    old_sent = _row(intake_db, 1, published_at=now - timedelta(hours=169))
    new_sent = _row(intake_db, 2, published_at=now - timedelta(hours=1))
    unsent = _row(intake_db, 3, attempts=5)
    with intake_db.begin() as c:
        for n, age in ((1, 337), (2, 1)):
            c.execute(inbox.insert().values(event_id=f"e-{n}", event_type="job_closed",
                                            processed_at=now - timedelta(hours=age)))
    relay = OutboxRelay(intake_db, clean_broker, RETRY_DELAYS_MS, clock=lambda: now,
                        retention={"outbox_hours": 168, "inbox_hours": 336, "interval_s": 600})
    relay.prune_if_due()
    with intake_db.connect() as c:
        assert sorted(c.execute(select(outbox.c.id)).scalars()) == [new_sent, unsent]
        assert list(c.execute(select(inbox.c.event_id)).scalars()) == ["e-2"]
    assert old_sent not in (new_sent, unsent)
    # not again before the interval has passed
    _row(intake_db, 4, published_at=now - timedelta(hours=200))
    relay.prune_if_due()
    with intake_db.connect() as c:
        assert c.execute(select(func.count()).select_from(outbox)).scalar_one() == 3


def test_two_relays_on_one_postgresql_outbox_publish_every_row_once(intake_db, watcher):
    """Several instances of a service relay the same outbox: each claims its rows with
    ``SELECT … FOR UPDATE SKIP LOCKED``, so no row goes out twice."""
    if intake_db.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: one relay per database")
    import json
    import threading
    uri = watcher.conn.as_uri(include_password=True)
    n_rows = 400
    with intake_db.begin() as c:
        c.execute(outbox.insert(), [dict(
            event_id=f"00000000-0000-0000-0001-{n:012d}", exchange="intake.events",
            routing_key="request_rejected", body=json.dumps({"n": n}), created_at=utcnow(),
            attempts=0) for n in range(n_rows)])
    relays = [OutboxRelay(intake_db, uri, RETRY_DELAYS_MS, batch_size=20) for _ in range(2)]
    published = [0, 0]
    start = threading.Barrier(2)

    def work(i):
        start.wait()
        while (k := relays[i].publish_pending()) or _unsent(intake_db):
            published[i] += k

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sum(published) == n_rows, published
    # every confirmed message is in the watcher's queue; a last one marks the end
    with intake_db.begin() as c:
        c.execute(outbox.insert().values(
            event_id="00000000-0000-0000-0002-000000000000", exchange="intake.events",
            routing_key="request_rejected", body=json.dumps({"n": "end"}), created_at=utcnow(),
            attempts=0))
    assert relays[0].publish_pending() == 1
    watcher.wait_for(lambda e: e.get("n") == "end")
    seen = [e["n"] for e in watcher.events if e.get("_routing_key") == "request_rejected"
            and e.get("n") != "end"]
    assert sorted(seen) == list(range(n_rows))      # each once
    for r in relays:
        r._close()


def _unsent(engine) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(outbox)
                         .where(outbox.c.published_at.is_(None))).scalar_one()


def test_a_nacked_row_is_tried_again_soon_on_a_new_connection_and_never_parked(
        intake_db, clean_broker):
    """A nack (here: a full queue with ``reject-publish``; in a cluster, a queue whose leader
    was on a node that died) is the broker's "not now": the row waits at most 5 s, the relay
    reconnects (a new channel finds the queues' leaders afresh), and nacks alone never park a
    row, whatever their number."""
    import amqp
    from kombu import Connection
    with Connection(clean_broker) as conn:
        ch = conn.channel()
        ch.exchange_declare("test.nack", "topic", durable=True, auto_delete=False)
        ch.queue_declare("test.nack.full", durable=True, auto_delete=False,
                         arguments={"x-max-length": 1, "x-overflow": "reject-publish"})
        ch.queue_bind("test.nack.full", "test.nack", "#")
        ch.queue_purge("test.nack.full")
        ch.basic_publish(amqp.Message(b"filler"), exchange="test.nack", routing_key="x")
        try:
            row = _row(intake_db, 1, exchange="test.nack", attempts=9)
            relay = OutboxRelay(intake_db, clean_broker, RETRY_DELAYS_MS, max_attempts=10)
            before = utcnow()
            assert relay.publish_pending() == 0
            nacked = _get(intake_db, row)
            assert nacked["published_at"] is None and nacked["last_error"] == "nacked by the broker"
            assert nacked["attempts"] == 9, "a nack must not bring the row to max_attempts"
            wait = nacked["next_attempt_at"].replace(tzinfo=before.tzinfo) - before
            assert wait <= timedelta(seconds=5.5)
            assert relay._conn is None, "the relay reconnects after a nack"
            ch.queue_purge("test.nack.full")     # room again
            _due_again(intake_db)
            assert relay.publish_pending() == 1
            assert _get(intake_db, row)["published_at"] is not None
            relay._close()
        finally:
            ch.queue_delete("test.nack.full")
            ch.exchange_delete("test.nack")
