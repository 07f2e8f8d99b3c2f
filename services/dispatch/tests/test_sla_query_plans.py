"""The SLA timer's question "which clocks are due now" is answered from its two indexes on
SQLite and PostgreSQL, with and without statistics, not by scanning the open clocks (a test on
the plan, not on time: the tick must not grow with the number of open, already breached
clocks)."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import insert, text

from services.dispatch.adapters.orm import sla_clocks
from services.dispatch.adapters.sla_clocks import SlaRepository
from tests.support.fixtures import migrated_database
from tests.support.plans import query_plan, statements_with

NOW = datetime(2026, 12, 31, 16, 30, tzinfo=timezone.utc)   # the last evening of a year, UTC


def _fill(engine, n=3000):
    """Open clocks: most breached long ago (they stay open until their stage ends), some
    at risk, a few due now, the rest due later."""
    rows = []
    for i in range(n):
        due = NOW + timedelta(minutes=(i % 7) - 3)
        breached = NOW - timedelta(hours=2) if i % 3 else None
        rows.append(dict(ticket_no=f"SH-{i:08d}", stage="response", branch="SH", priority="B",
                         received_at=NOW - timedelta(hours=4), target_seconds=3600.0,
                         working=False, due_at=due, at_risk_at=due - timedelta(minutes=10),
                         status="open", at_risk_raised_at=breached, breached_at=breached,
                         updated_at=NOW))
    with engine.begin() as c:
        c.execute(insert(sla_clocks), rows)


def _statements_of_due(engine, factory) -> tuple[list[str], list]:
    with statements_with(engine, "FROM sla_clocks") as seen, factory() as s:
        due = SlaRepository(s).due(NOW, limit=200)
        s.rollback()
    return seen, due


def test_the_due_clocks_are_found_through_the_timer_indexes(database_urls):
    with migrated_database(database_urls["dispatch"], "dispatch") as (engine, factory):
        _fill(engine)
        for analyzed in (False, True):
            if analyzed:
                with engine.begin() as c:
                    c.execute(text("ANALYZE"))
            statements, due = _statements_of_due(engine, factory)
            assert len(statements) == 2
            plans = [query_plan(engine, *s) for s in statements]
            assert "ix_sla_clocks_breach_due" in plans[0], plans[0]
            assert "ix_sla_clocks_risk_due" in plans[1], plans[1]
            # the answer: every unbreached clock whose deadline or at-risk mark has passed
            expected = {f"SH-{i:08d}" for i in range(3000)
                        if i % 3 == 0 and (i % 7) - 3 - 10 <= 0}
            assert len(due) == 200 and {c.ticket_no for c in due} <= expected
            assert all(c.breached_at is None for c in due)
            assert [c.due_at for c in due] == sorted(c.due_at for c in due)
