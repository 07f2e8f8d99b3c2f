"""The SLA clocks table on SQLite and PostgreSQL: the timer's scan, the compare-and-set that
makes at-risk and breach exactly-once, and the scrape-time counts (no broker needed)."""
from datetime import datetime, timedelta, timezone

import pytest

from aftersales.db import make_engine, migrate, session_factory
from aftersales.registry import migrations_dir
from services.dispatch.adapters.sla_clocks import SlaRepository
from services.dispatch.domain import clocks as ck
from services.dispatch.domain.policy import build_policy

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)
POLICY = build_policy("SH", "Asia/Shanghai")


@pytest.fixture
def session(database_urls):
    engine = make_engine(database_urls["dispatch"])
    migrate(engine, migrations_dir("dispatch"))
    with session_factory(engine)() as s:
        yield s
    engine.dispose()


def _open(s, ticket_no, priority="B"):
    repo = SlaRepository(s)
    for c in ck.open_clocks(ticket_no, "SH", priority, T0, POLICY):
        repo.add(c, "opened")
    s.commit()
    return repo


def test_scan_counts_and_exactly_once(session):
    repo = _open(session, "SH-1")
    _open(session, "SH-2", "A")
    at = lambda m: T0 + timedelta(minutes=m)   # noqa: E731
    assert repo.due(at(47)) == []
    # 48 min: both response clocks (1 h) at risk; none breached
    assert sorted((c.ticket_no, c.stage) for c in repo.due(at(48))) == [("SH-1", "response"),
                                                                        ("SH-2", "response")]
    risk, over = repo.open_counts(at(50))
    assert sorted(risk) == [("response", "A", "SH", 1), ("response", "B", "SH", 1)] and over == []
    # A's dispatch (2 h) is due at 120 min: at risk from 96 min
    risk, over = repo.open_counts(at(100))
    assert ("dispatch", "A", "SH", 1) in risk and sorted(over) == [("response", "A", "SH", 1),
                                                                  ("response", "B", "SH", 1)]

    # the timer raises the breach with a compare-and-set; a second writer that read the clock
    # before loses and writes nothing
    [c] = [c for c in repo.due(at(61)) if c.ticket_no == "SH-1" and c.stage == "response"]
    stale = ck.StageClock(**vars(c))
    ck.raise_breach(c, at(61), ck.escalation("B", "SH-S001", "HQ-GM01"))
    assert repo.save(c, expect=stale) is True
    session.commit()
    again = ck.StageClock(**vars(stale))
    ck.raise_breach(again, at(62), ck.escalation("B", "SH-S001", "HQ-GM01"))
    assert repo.save(again, expect=stale) is False
    assert all(x.ticket_no != "SH-1" or x.stage != "response" for x in repo.due(at(70)))
    stored = repo.of_ticket("SH-1")["response"]
    assert stored.breached_at == at(61) and stored.escalated_to == "SH-S001"

    # a completed clock leaves the counts and the scan
    done = repo.of_ticket("SH-2")["response"]
    before = ck.StageClock(**vars(done))
    ck.complete(done, at(30), POLICY, [])
    assert repo.save(done, expect=before)
    session.commit()
    risk, over = repo.open_counts(at(100))
    assert ("response", "A", "SH", 1) not in over
    assert [h["reason"] for h in repo.history("SH-1")] == ["opened"] * 4
