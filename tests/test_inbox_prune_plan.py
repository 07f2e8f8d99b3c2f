"""The relay's prune finds the inbox ids older than the retention through
``ix_inbox_processed_at`` (each service's migration of it), on SQLite and PostgreSQL, with and
without statistics, and deletes exactly those: a prune must not read the whole inbox, which
holds every event a service consumed during the retention (weeks of traffic)."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, insert, select, text

from aftersales.outbox import inbox, prune
from aftersales.registry import SERVICES
from tests.support.fixtures import migrated_database
from tests.support.plans import query_plan, statements_with

NOW = datetime(2026, 12, 31, 16, 30, tzinfo=timezone.utc)
N = 20000


@pytest.mark.parametrize("service", SERVICES)
def test_the_prune_reads_only_the_old_ids_through_the_index(database_urls, service):
    with migrated_database(database_urls[service], service) as (engine, _):
        with engine.begin() as c:   # ids of the last 1,000 hours, 20 an hour: about 1 % older than the retention
            c.execute(insert(inbox), [dict(event_id=f"{i:036d}", event_type="ticket_opened",
                                           processed_at=NOW - timedelta(hours=i % 1000))
                                      for i in range(N)])
        # PostgreSQL without statistics guesses a third of any range (a scan with LIMIT then
        # looks as cheap); with them, and on SQLite either way, the index answers
        for analyzed in ((True,) if engine.dialect.name == "postgresql" else (False, True)):
            if analyzed:
                with engine.begin() as c:
                    c.execute(text("ANALYZE"))
            now = NOW + timedelta(hours=10 * analyzed)
            old, before = _counts(engine, now - timedelta(hours=990))
            with statements_with(engine, "DELETE FROM inbox") as seen:
                sent, ids = prune(engine, now, outbox_retention=timedelta(hours=1),
                                  inbox_retention=timedelta(hours=990), batch=50)
            plan = query_plan(engine, *seen[0])
            assert "ix_inbox_processed_at" in plan, plan
            assert old > 0 and (sent, ids) == (0, old)
            assert _counts(engine, now - timedelta(hours=990)) == (0, before - old)


def _counts(engine, cutoff) -> tuple[int, int]:
    """(ids recorded before ``cutoff``, all ids)."""
    with engine.connect() as c:
        return (c.execute(select(func.count()).where(inbox.c.processed_at < cutoff)).scalar_one(),
                c.execute(select(func.count()).select_from(inbox)).scalar_one())
