"""The cost of a ``ticket_opened`` in statements, counted on the engine (a bound that fails
when a use case starts reading the roster or the workload per message again, not a timing),
and what the batch decides: the same engineers, in the same order, as one event per unit of
work, none booked beyond ``max_jobs``. Dispatch's bus on SQLite and PostgreSQL, no broker."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from services.dispatch.adapters.policies import PolicyBook
from services.dispatch.adapters.repository import DispatchUnitOfWork
from services.dispatch.bootstrap import bus_for
from services.dispatch.domain.roster import SUPERVISOR, Engineer
from services.dispatch.tests.test_dispatch_integration import ticket_opened
from tests.support.fixtures import migrated_database

POLICIES = PolicyBook({})
BATCH = 16          # @consume_events("aftersales.dispatch.events", batch=16)
# inbox claim, job already?, early events, kept ticket forgotten, job, assignment, outbox,
# clocks already?, clocks, their first deadlines (it was 24: roster 4x, workload 3x ...)
PER_TICKET = 10
PER_BATCH = 3       # BEGIN (SQLite), the branch's roster (locked), its workload


def roster(max_jobs: int, n: int = 4) -> list[Engineer]:
    people = [Engineer(f"SH-T{i:03d}", f"工程师{i}", "SH", ("fault", "main_structure"),
                       max_jobs=max_jobs) for i in range(n)]
    return people + [Engineer("SH-T900", "主管", "SH", role=SUPERVISOR)]


@contextmanager
def dispatch(url: str, people: list[Engineer]):
    with migrated_database(url, "dispatch") as (engine, factory):
        with DispatchUnitOfWork(factory, "dispatch") as uow:
            for e in people:
                uow.engineers.upsert(e)
            uow.commit()
        yield engine, bus_for(factory, policies=POLICIES)


@contextmanager
def statements(engine):
    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def tickets(n: int, first: int = 1) -> list:
    return [ticket_opened(f"SH-20261123-{i:04d}") for i in range(first, first + n)]


def chosen(decisions) -> list[str | None]:
    return [d.engineer.engineer_id if d.engineer else d.escalated_to for d in decisions]


def test_a_batch_of_ticket_opened_reads_the_roster_and_the_workload_once(database_urls):
    with dispatch(database_urls["dispatch"], roster(max_jobs=100)) as (engine, bus):
        with statements(engine) as seen:
            decisions = bus.handle_events(tickets(BATCH))
        assert all(d.assigned for d in decisions)
        assert len(seen) <= BATCH * PER_TICKET + PER_BATCH, len(seen)
        assert len([s for s in seen if "FROM engineers" in s]) == 2, seen   # roster, workload
        # the workload counted on in memory: the jobs go round the four engineers
        assert chosen(decisions) == [f"SH-T{i % 4:03d}" for i in range(BATCH)]
        with statements(engine) as seen:
            [one] = bus.handle_events(tickets(1, first=BATCH + 1))
        assert one.engineer.engineer_id == "SH-T000"
        assert len(seen) <= PER_TICKET + PER_BATCH, seen


@pytest.mark.parametrize("max_jobs", [2, 3])
def test_a_batch_decides_as_one_event_at_a_time_and_never_overbooks(database_urls, tmp_path,
                                                                     db_backend, max_jobs):
    """Four engineers with ``max_jobs`` each: the batch fills them in the order single events
    do, then escalates to the supervisor (the workload kept in memory counts every job the
    batch added)."""
    people = roster(max_jobs)
    with dispatch(database_urls["dispatch"], people) as (_, bus):
        batched = chosen(bus.handle_events(tickets(BATCH)))
    if db_backend == "sqlite":
        other = f"sqlite:///{tmp_path / 'one_at_a_time.db'}"
    else:
        other = database_urls["dispatch_single"]
    with dispatch(other, people) as (_, bus):
        single = [chosen([bus.handle_event(env)])[0] for env in tickets(BATCH)]
    assert batched == single
    assert batched.count("SH-T900") == BATCH - 4 * max_jobs
    assert all(batched.count(f"SH-T{i:03d}") == max_jobs for i in range(4))



def test_a_kept_roster_is_read_again_to_take_its_lock_and_after_an_upsert(database_urls):
    with dispatch(database_urls["dispatch"], roster(max_jobs=1)) as (engine, bus):
        with bus.uow() as uow, statements(engine) as seen:
            def reads():
                return len([s for s in seen if "FROM engineers" in s])
            first = uow.engineers.of_branch("SH")
            assert uow.engineers.of_branch("SH") == first and reads() == 1
            assert uow.engineers.of_branch("SH", lock=True) == first and reads() == 2
            assert uow.engineers.of_branch("SH") == first and reads() == 2
            uow.engineers.upsert(Engineer("SH-T100", "新人", "SH", ("fault",)))
            assert "SH-T100" in [e.engineer_id for e in uow.engineers.of_branch("SH")]
