"""One lock order everywhere (the branch's roster, then the job, then its SLA clocks), so a
decline or an acceptance timeout racing a cancellation in the same branch never deadlocks on
PostgreSQL. Real PostgreSQL (SQLite takes no row locks), dispatch's use cases, no broker."""
from __future__ import annotations

import re
from datetime import timedelta

import eventlet
import pytest
from sqlalchemy import event, text

from aftersales.auth import Principal
from aftersales.contracts.envelope import utcnow
from aftersales.outbox import make_envelope
from services.dispatch.adapters.policies import PolicyBook
from services.dispatch.adapters.repository import DispatchUnitOfWork
from services.dispatch.bootstrap import bus_for
from services.dispatch.service_layer import commands
from services.dispatch.tests.test_dispatch_integration import ticket_opened
from tests.support.fixtures import migrated_database
from tests.support.waiting import wait_until

TICKET = "SH-20261122-0077"
DISPATCHER = Principal("key-d", "SH", "dispatcher")
RANK = {"engineers": 0, "jobs": 1, "sla_clocks": 2}
POLICIES = PolicyBook({})


@pytest.fixture
def pg(database_urls, db_backend):
    if db_backend != "postgresql":
        pytest.skip("row locks are PostgreSQL's (SQLite serialises every writer)")
    with migrated_database(database_urls["dispatch"], "dispatch", seed=True) as (engine, factory):
        bus(factory).handle_event(ticket_opened(TICKET))
        yield engine, factory


def uow(factory):
    return DispatchUnitOfWork(factory, "dispatch")


def bus(factory, **settings):
    return bus_for(factory, policies=POLICIES, **settings)


def cancelled(ticket_no=TICKET):
    return make_envelope("intake", "ticket_cancelled", {
        "ticket_no": ticket_no, "cancelled_at": utcnow().isoformat(), "reason": "客户撤销报修",
        "by": "agent-7"}, ticket_no=ticket_no, branch="SH")


def locks_taken(engine, run) -> list[str]:
    """The tables ``run()`` locks FOR UPDATE, in order."""
    seen = []

    def spy(conn, cursor, statement, params, context, executemany):
        if "FOR UPDATE" in statement:
            seen.append(re.search(r"FROM (\w+)", statement).group(1))
    event.listen(engine, "before_cursor_execute", spy)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", spy)
    return seen


def in_lock_order(tables: list[str]) -> bool:
    """The first lock on each table comes in the order roster, job, clocks (taking a lock
    the transaction already holds again waits for nothing)."""
    first = [RANK[t] for i, t in enumerate(tables) if t in RANK and t not in tables[:i]]
    return first == sorted(first)


def test_every_use_case_that_may_reassign_locks_the_roster_before_the_job(pg):
    engine, factory = pg
    decline = locks_taken(engine, lambda: bus(factory).handle(
        commands.DeclineJob(DISPATCHER, TICKET, {"reason": "另有急修"})))
    assert decline[0] == "engineers" and "jobs" in decline and in_lock_order(decline), decline
    manual = locks_taken(engine, lambda: bus(factory).handle(
        commands.AssignJob(DISPATCHER, TICKET, {"reason": "重新派工"})))
    assert manual[0] == "engineers" and in_lock_order(manual), manual
    timeout = locks_taken(engine, lambda: bus(factory, accept_timeout_minutes=0).handle(
        commands.TimeOutAcceptances(now=utcnow() + timedelta(minutes=1))))
    assert timeout[0] == "engineers" and "jobs" in timeout and in_lock_order(timeout), timeout
    ended = locks_taken(engine, lambda: bus(factory).handle_event(cancelled()))
    assert ended[0] == "engineers" and in_lock_order(ended), ended


def _waiting_on_locks(engine) -> int:
    with engine.connect() as c:
        return c.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'")).scalar_one()


def test_a_decline_racing_a_cancellation_in_the_same_branch_does_not_deadlock(pg):
    engine, factory = pg
    # hold the job's row so both use cases are inside their transactions at once: with
    # opposite lock orders the decline would hold the job and want the roster while the
    # cancellation holds the roster and wants the job (PostgreSQL aborts one: deadlock)
    blocker = engine.connect()
    tx = blocker.begin()
    blocker.execute(text("SELECT ticket_no FROM jobs WHERE ticket_no = :t FOR UPDATE"),
                    {"t": TICKET})
    decline = eventlet.spawn(bus(factory).handle, commands.DeclineJob(
        DISPATCHER, TICKET, {"reason": "车辆故障，无法前往"}))
    wait_until(lambda: _waiting_on_locks(engine) >= 1, what="the decline to wait on a lock")
    ended = eventlet.spawn(bus(factory).handle_event, cancelled())
    wait_until(lambda: _waiting_on_locks(engine) >= 2, what="the cancellation to wait on a lock")
    tx.commit()
    blocker.close()

    view = decline.wait()                  # raises if PostgreSQL chose it as the deadlock victim
    ended.wait()
    assert view["declined_by"] == ["SH-E001"] and view["engineer_id"] != "SH-E001"
    with uow(factory) as u:
        job = u.jobs.get(TICKET)
        assert job.status == "cancelled"
        assert {c.status for c in u.sla.of_ticket(TICKET).values()} == {"stopped"}
