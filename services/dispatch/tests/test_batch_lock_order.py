"""Two batches of ``ticket_opened`` naming the same branches in opposite orders, handled at
the same moment by two workers (two instances of dispatch, or two batches of one), never wait
on each other in a cycle: each batch takes the roster locks of all its branches first, in
branch order (``assigning.lock_rosters_of_batch``). Taken one event at a time, PostgreSQL
found a deadlock in most rounds (the batch failed after ``deadlock_timeout`` and every
message ran again alone: the full path fell from ~120 to ~20 assignments a second)."""
from __future__ import annotations

import threading

from services.dispatch.adapters.repository import DispatchUnitOfWork
from services.dispatch.domain.roster import SUPERVISOR, Engineer
from services.dispatch.tests.test_dispatch_integration import ticket_opened
from services.dispatch.tests.test_statements_per_ticket import POLICIES
from services.dispatch.bootstrap import bus_for
from tests.support.fixtures import migrated_database

ROUNDS = 12


def _people() -> list[Engineer]:
    out = []
    for b in ("SH", "HZ"):
        out += [Engineer(f"{b}-T{i:03d}", f"工程师{i}", b, ("fault", "main_structure"),
                         max_jobs=100) for i in range(3)]
        out.append(Engineer(f"{b}-T900", "主管", b, role=SUPERVISOR))
    return out


def test_batches_naming_branches_in_opposite_orders_do_not_deadlock(database_urls):
    with migrated_database(database_urls["dispatch"], "dispatch") as (engine, factory):
        with DispatchUnitOfWork(factory, "dispatch") as uow:
            for e in _people():
                uow.engineers.upsert(e)
            uow.commit()
        buses = [bus_for(factory, policies=POLICIES), bus_for(factory, policies=POLICIES)]
        start = threading.Barrier(2)
        failures: list[BaseException] = []

        def worker(k: int) -> None:
            first, second = ("SH", "HZ") if k == 0 else ("HZ", "SH")
            for r in range(ROUNDS):
                batch = [ticket_opened(f"{first}-20261123-{k}{r:03d}", branch=first),
                         ticket_opened(f"{second}-20261123-{k}{r:03d}", branch=second)]
                start.wait(timeout=60)
                try:
                    buses[k].handle_events(batch)
                except BaseException as exc:   # noqa: BLE001 - collected for the assertion
                    failures.append(exc)
        threads = [threading.Thread(target=worker, args=(k,)) for k in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        assert not failures, f"{len(failures)} batches failed, e.g. {failures[0]!r}"
        with DispatchUnitOfWork(factory, "dispatch") as uow:
            opened = [uow.jobs.get(f"{b}-20261123-{k}{r:03d}") for b in ("SH", "HZ")
                      for k in range(2) for r in range(ROUNDS)]
        assert all(j is not None and j.engineer_id for j in opened)
