"""A three-node RabbitMQ cluster (tests/support/cluster.py): the four services as real
processes with ``AMQP_URI`` naming the three nodes take a stream of phone-center requests; the
node that leads intake's queue is SIGKILLed in the middle. Every request gets exactly one
ticket and every ticket exactly one assignment outcome, nothing is parked, no service exits.
This rests on quorum queues (replicated on the three nodes; a classic queue lives on one node
and is gone with it).

Also (on the shared broker, not e2e): a multi-node ``AMQP_URI`` reaches a live node when the
others are down, and passwords stay out of the logged form.
"""
from __future__ import annotations

import pytest
import requests
from kombu import Connection

from aftersales.contracts import topology
from aftersales.messaging import broker as broker_mod
from aftersales.registry import SERVICES
from tests.support import cluster as cluster_mod
from tests.support.fixtures import free_port
from tests.support.processes import System
from tests.support.waiting import wait_until
from tests.test_fault_matrix import OUTCOMES, WATCH, Outcomes, Stream, assert_each_request_once

REQUESTS = 240


def _dead_node() -> str:
    return f"pyamqp://guest:guest@127.0.0.1:{free_port()}//"   # nothing listens there


# -- multi-node AMQP_URI (shared broker) ---------------------------------------------------
def test_a_connection_reaches_the_live_node_whichever_node_it_starts_at(broker_uri):
    uri = ";".join([_dead_node(), _dead_node(), broker_uri])
    firsts = set()
    for _ in range(3):
        conn = broker_mod.connection(uri, connect_timeout=2)
        firsts.add(conn.port)
        try:
            # the relay's and the failure publisher's single try: every node is tried once
            conn.ensure_connection(max_retries=1, interval_start=0)
            assert conn.connected
            conn.channel().close()
        finally:
            conn.release()
    assert len(firsts) == 3, "each new connection starts at the next node"


def test_a_multi_node_uri_is_logged_without_any_password():
    uri = "pyamqp://guest:s3cret@10.0.0.1:5672//;pyamqp://guest:s3cret@10.0.0.2:5672//"
    assert "s3cret" not in broker_mod.safe_uri(uri)
    assert broker_mod.nodes(uri) == uri.split(";")


# -- the cluster ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cluster():
    if not cluster_mod.available():
        pytest.skip("needs an installed rabbitmq-server (/usr/lib/rabbitmq/bin) for local nodes")
    c = cluster_mod.Cluster(3)
    try:
        c.start()
        yield c
    finally:
        c.close()


@pytest.fixture(scope="module")
def system(cluster, tmp_path_factory):
    with Connection(cluster.uri) as conn:   # a quorum queue that sees every outcome
        ch = conn.channel()
        for ex in topology.exchanges():
            ch.exchange_declare(ex, "topic", durable=True, auto_delete=False)
        ch.queue_declare(WATCH, durable=True, auto_delete=False,
                         arguments={"x-queue-type": "quorum"})
        ch.queue_bind(WATCH, "intake.events", "ticket_opened")
        for key in OUTCOMES:
            ch.queue_bind(WATCH, "dispatch.events", key)
    workdir = tmp_path_factory.mktemp("cluster")
    sys_ = System(cluster.uri, workdir, AFTERSALES_TRANSIENT_BACKOFF_MAX="2",
                  AFTERSALES_HEARTBEAT="10")
    sys_.direct = {"intake": sys_.env["INTAKE_DATABASE_URL"]}   # read by assert_each_request_once
    try:
        sys_.start()
        yield sys_
    finally:
        sys_.close()


def _intake_queue() -> str:
    return next(q.name for q in topology.QUEUES
                if any(b.routing_key == topology.REPAIR_REQUESTED for b in q.bindings))


def _healthy(system, name) -> bool:
    try:
        return requests.get(system.url(name, "/health"), timeout=5).status_code == 200
    except requests.RequestException:
        return False


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_a_node_killed_during_a_stream_loses_and_doubles_nothing(cluster, system):
    kinds = {row[0]: row[1] for row in cluster.queues(0, "name", "type")}
    durable = [q.name for q in topology.QUEUES] + [topology.parking_queue(s) for s in SERVICES]
    durable += [topology.retry_queue(q.name, d) for q in topology.QUEUES
                for d in system.env["AFTERSALES_RETRY_DELAYS_MS"].split(",")]
    classic = sorted(q for q in durable if kinds.get(q) != "quorum")
    assert not classic, f"not quorum queues (a classic queue dies with its node): {classic}"
    leaders = {row[0]: row[1] for row in cluster.queues(0, "name", "leader")}
    victim = next(i for i, n in enumerate(cluster.nodes) if n.node == leaders[_intake_queue()])

    pids = system.pids()
    stream = Stream(cluster.uri, REQUESTS, pace=0.25, burst=8)
    stream.start()
    wait_until(lambda: len(stream.sent) >= REQUESTS // 3, timeout=90,
               what="the stream to be under way")
    cluster.kill(victim)
    sent = stream.finish()

    outcomes = Outcomes()
    try:
        assert_each_request_once(system, outcomes, sent)
    except AssertionError as exc:
        tickets = outcomes.tickets(sent)
        raise AssertionError(
            f"{exc}; {len(sent) - len(tickets)} of {len(sent)} requests without a ticket, "
            f"{sum(t not in outcomes.assigned for t in tickets.values())} tickets without an "
            f"assignment outcome (killed {cluster.nodes[victim].node})") from None
    assert system.pids() == pids, "a service process exited or was replaced"
    for name in SERVICES:
        wait_until(lambda: _healthy(system, name), timeout=60,
                   what=f"{name} healthy on the two remaining nodes")
    # the killed node comes back and rejoins; the queues are whole again
    cluster.restart(victim)
    assert {row[0] for row in cluster.queues(victim, "name")} >= set(durable)
