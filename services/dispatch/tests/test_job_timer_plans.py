"""The timer's questions about jobs, "assigned and not accepted since" and "on site without a
report since", are answered from their indexes (migration 0007) on SQLite and PostgreSQL, with
and without statistics, not by scanning every job (a test on the plan, not on time: a tick
must not grow with the jobs done long ago)."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import insert, text

from services.dispatch.adapters.orm import jobs
from services.dispatch.adapters.repository import JobRepository
from services.dispatch.domain.model import ASSIGNED, CLOSED, ON_SITE_STATES
from tests.support.fixtures import migrated_database
from tests.support.plans import query_plan, statements_with

NOW = datetime(2026, 12, 31, 16, 30, tzinfo=timezone.utc)
N = 3000


def _fill(engine):
    """Mostly closed jobs, some assigned, some on site; a few of either due now."""
    rows = []
    for i in range(N):
        status = (ASSIGNED if i % 10 == 0 else ON_SITE_STATES[i % 4] if i % 10 == 1 else CLOSED)
        at = NOW - timedelta(minutes=(i % 7) * 10)
        rows.append(dict(ticket_no=f"SH-{i:08d}", branch="SH", priority="B", category="fault",
                         received_at=at, status=status, engineer_id=f"SH-E{i % 30:03d}",
                         opened_event_id=f"e{i}", created_at=at, assigned_at=at,
                         last_report_at=at, parts_used=[], updated_at=at))
    with engine.begin() as c:
        c.execute(insert(jobs), rows)


def _asked(engine, factory, question) -> tuple[list, list]:
    with statements_with(engine, "FROM jobs") as seen, factory() as s:
        found = question(JobRepository(s))
        s.rollback()
    return seen, found


def test_the_timer_finds_late_acceptances_and_missing_reports_through_their_indexes(
        database_urls):
    cutoff = NOW - timedelta(minutes=45)
    with migrated_database(database_urls["dispatch"], "dispatch") as (engine, factory):
        _fill(engine)
        for analyzed in (False, True):
            if analyzed:
                with engine.begin() as c:
                    c.execute(text("ANALYZE"))
            for question, index, status in (
                    (lambda r: r.awaiting_acceptance(cutoff, limit=50),
                     "ix_jobs_status_assigned_at", (ASSIGNED,)),
                    (lambda r: r.reports_due(cutoff, limit=200),
                     "ix_jobs_status_last_report_at", ON_SITE_STATES)):
                [statement], found = _asked(engine, factory, question)
                plan = query_plan(engine, *statement)
                assert index in plan, plan
                expected = {f"SH-{i:08d}" for i in range(N) if i % 10 in (0, 1)
                            and (i % 7) * 10 >= 45}
                assert found and all(j.status in status for j in found)
                assert {j.ticket_no for j in found} <= expected
