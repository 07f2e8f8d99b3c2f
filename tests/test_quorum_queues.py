"""Quorum queues against the real RabbitMQ, each test on a fresh vhost: every durable queue of
the topology is quorum with the delivery limit, a message given back beyond the limit ends in
the parking queue (visible to ``aftersales parked list``), a classic queue left by an older
install neither crashes the declaration nor loses messages, and ``aftersales broker
migrate-queues`` converts it with its messages kept."""
from __future__ import annotations

import json
import subprocess
import shutil

import amqp
import pytest
from kombu import Connection

from aftersales import registry
from aftersales.cli import main
from aftersales.contracts import topology
from aftersales.messaging import broker
from aftersales.messaging.parking import ParkingLot
from tests.support import broker as b
from tests.support.broker import wait_parked
from tests.support.fixtures import RETRY_DELAYS_MS

pytestmark = pytest.mark.integration

LIMIT = 3


@pytest.fixture
def vhost_uri(broker_uri, monkeypatch):
    if not shutil.which("rabbitmqctl"):
        pytest.skip("needs rabbitmqctl for a fresh vhost")
    vhost = b.make_vhost()
    assert vhost, "could not create a vhost"
    uri = b.uri_with_vhost(broker_uri, vhost)
    monkeypatch.setenv("AFTERSALES_DELIVERY_LIMIT", str(LIMIT))
    monkeypatch.setenv("AFTERSALES_RETRY_DELAYS_MS", ",".join(map(str, RETRY_DELAYS_MS)))
    monkeypatch.setenv("AMQP_URI", uri)
    yield vhost, uri
    b.rabbitmqctl("delete_vhost", vhost)


def list_queues(vhost: str) -> dict[str, dict]:
    out = subprocess.run([shutil.which("rabbitmqctl"), "list_queues", "-p", vhost, "name", "type",
                          "arguments", "--formatter", "json", "-q"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    rows = json.loads(out)
    return {r["name"]: {"type": r["type"], "arguments": _args(r["arguments"])} for r in rows}


def _args(raw) -> dict:
    if isinstance(raw, dict):
        return raw
    return {item[0]: item[-1] for item in raw}   # [[key, type, value], ...]


def topology_queue_names() -> set[str]:
    names = set()
    for q in topology.QUEUES:
        names.add(q.name)
        names.update(topology.retry_queue(q.name, d) for d in RETRY_DELAYS_MS)
    names.update(topology.parking_queue(s) for s in registry.SERVICES)
    return names


def test_every_topology_queue_is_quorum_with_the_delivery_limit(vhost_uri):
    vhost, uri = vhost_uri
    with Connection(uri) as conn:
        broker.declare_topology(conn.channel(), RETRY_DELAYS_MS)
    found = list_queues(vhost)
    expected = topology_queue_names()
    assert expected <= set(found), sorted(expected - set(found))
    for name in expected:
        assert found[name]["type"] == "quorum", name
    parking = {topology.parking_queue(s) for s in registry.SERVICES}
    for name in expected - parking:
        args = found[name]["arguments"]
        assert args["x-delivery-limit"] == LIMIT, name
        assert args["x-dead-letter-strategy"] == "at-least-once", name
    for q in topology.QUEUES:     # beyond the limit: to the service's parking queue
        assert found[q.name]["arguments"]["x-dead-letter-routing-key"] == \
            topology.parking_queue(q.service)
    for name in parking:          # browsing gives every message back: no limit there
        assert "x-delivery-limit" not in found[name]["arguments"], name


def test_a_message_given_back_beyond_the_limit_is_parked_not_dropped(vhost_uri, capsys):
    _, uri = vhost_uri
    queue = "aftersales.dispatch.events"
    with Connection(uri) as conn:
        ch = conn.channel()
        broker.declare_topology(ch, RETRY_DELAYS_MS)
        ch.basic_publish_confirm(amqp.Message(b'{"poison": true}', delivery_mode=2,
                                              message_id="m-1", content_type="application/json"),
                                 exchange="", routing_key=queue)
        deliveries = 0
        while (m := ch.basic_get(queue, no_ack=False)) is not None:   # a consumer crash loop
            deliveries += 1
            ch.basic_reject(m.delivery_tag, requeue=True)
            assert deliveries <= LIMIT + 2
        assert deliveries == LIMIT + 1      # given back LIMIT times, then dead-lettered
    lot = ParkingLot(uri, "dispatch", RETRY_DELAYS_MS)
    [parked] = wait_parked(lot, 1)
    assert parked.body == b'{"poison": true}'
    assert parked.original_queue == queue
    assert "delivery limit" in parked.reason
    main_rc = _run(["parked", "list", "--service", "dispatch"])
    assert main_rc == 0
    assert "delivery limit" in capsys.readouterr().out
    assert lot.replay(parked.parked_id) == [parked.parked_id]     # back to its queue
    with Connection(uri) as conn:
        assert broker.queue_depth(conn.channel(), queue) == 1


def _run(argv) -> int:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    return exit_.value.code


def _fill_classic(uri, queue, bodies):
    with Connection(uri) as conn:
        ch = conn.channel()
        ch.queue_declare(queue, durable=True, auto_delete=False)    # an older install
        for body in bodies:
            ch.basic_publish_confirm(amqp.Message(body, delivery_mode=2, message_id=body.decode(),
                                                  application_headers={"x-attempts": 1}),
                                     exchange="", routing_key=queue)


def _drain(uri, queue) -> list[bytes]:
    out = []
    with Connection(uri) as conn:
        ch = conn.channel()
        while (m := ch.basic_get(queue, no_ack=True)) is not None:
            out.append(m.body if isinstance(m.body, bytes) else m.body.encode())
    return out


def test_a_classic_leftover_is_used_as_is_with_a_clear_line_and_the_channel_stays_open(
        vhost_uri, caplog):
    vhost, uri = vhost_uri
    _fill_classic(uri, "aftersales.parts.events", [b"a"])
    with Connection(uri) as conn:
        ch = conn.channel()
        broker.declare_topology(ch, RETRY_DELAYS_MS)     # does not raise
        assert broker.queue_depth(ch, "aftersales.parts.events") == 1   # same channel, open
    assert "aftersales broker migrate-queues" in caplog.text
    found = list_queues(vhost)
    assert found["aftersales.parts.events"]["type"] == "classic"
    assert found["aftersales.dispatch.events"]["type"] == "quorum"   # the others as declared


def test_migrate_queues_converts_classic_queues_keeping_their_messages(vhost_uri, capsys):
    vhost, uri = vhost_uri
    bodies = [f"m{i}".encode() for i in range(25)]
    _fill_classic(uri, "aftersales.intake.phone_center", bodies)
    _fill_classic(uri, "aftersales.intake.parked", [b"p1"])

    assert _run(["broker", "migrate-queues", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would migrate aftersales.intake.phone_center (25 message(s))" in out
    assert list_queues(vhost)["aftersales.intake.phone_center"]["type"] == "classic"

    assert _run(["broker", "migrate-queues"]) == 0
    out = capsys.readouterr().out
    assert "migrating aftersales.intake.phone_center: 25 message(s)" in out
    found = list_queues(vhost)
    assert found["aftersales.intake.phone_center"]["type"] == "quorum"
    assert found["aftersales.intake.parked"]["type"] == "quorum"
    assert not [n for n in found if n.endswith(".migrating")]

    assert _run(["broker", "migrate-queues"]) == 0       # idempotent
    assert "nothing to migrate" in capsys.readouterr().out
    assert _drain(uri, "aftersales.intake.phone_center") == bodies     # all kept, in order
    assert _drain(uri, "aftersales.intake.parked") == [b"p1"]


def test_an_interrupted_migration_is_finished_by_the_next_run(vhost_uri, capsys):
    _, uri = vhost_uri
    with Connection(uri) as conn:
        broker.declare_topology(conn.channel(), RETRY_DELAYS_MS)
    # the queue was already re-created, the messages still wait in the temporary queue
    _fill_classic(uri, "aftersales.feedback.events.migrating", [b"x", b"y"])
    assert _run(["broker", "migrate-queues"]) == 0
    assert _drain(uri, "aftersales.feedback.events") == [b"x", b"y"]
    with Connection(uri) as conn:
        with pytest.raises(amqp.exceptions.NotFound):
            conn.channel().queue_declare("aftersales.feedback.events.migrating", passive=True)
