"""Dispatch's migrations on SQLite and PostgreSQL: a database with a roster and a job from
revision 0001 upgrades (and downgrades) cleanly through 0003, old rows read back, and the tables match the
ORM (no migration missing)."""
from datetime import datetime, timezone

from aftersales.db import session_factory
from services.dispatch.adapters.orm import metadata
from services.dispatch.adapters.repository import EngineerRepository, JobRepository
from tests.support.migrations import assert_matches_orm_and_reverses, at_revision_with, upgrade

AT = datetime(2026, 11, 22, 1, 30, tzinfo=timezone.utc)


def test_a_database_with_a_roster_and_a_job_upgrades_and_matches_the_orm(engine_for):
    engine = engine_for("dispatch")
    at_revision_with("dispatch", engine, "0001",
                     ("INSERT INTO engineers (engineer_id, name, branch, role, skills, active, "
                      "max_jobs) VALUES ('SH-E001', '李强', 'SH', 'engineer', "
                      "'[\"fault\"]', true, 3)", {}),
                     ("INSERT INTO jobs (ticket_no, branch, priority, category, received_at, "
                      "status, engineer_id, engineer_name, opened_event_id, created_at, "
                      "parts_used, updated_at) VALUES ('SH-20261122-0001', 'SH', 'B', "
                      "'fault', :at, 'accepted', 'SH-E001', '李强', 'e1', :at, '[]', :at)",
                      {"at": AT}))
    upgrade("dispatch", engine)
    with session_factory(engine)() as s:
        [e] = EngineerRepository(s).of_branch("SH")
        assert (e.name, e.skills, e.shift, e.leave, e.zone) == ("李强", ("fault",), None, (), None)
        job = JobRepository(s).get("SH-20261122-0001")
        assert (job.status, job.visits, job.rework_count, job.declined_by) == ("accepted", 0, 0, [])
        assert job.received_at == AT
        assert (job.parts_requests, job.parts_expected_at) == ([], None)   # 0003
    assert_matches_orm_and_reverses("dispatch", engine, metadata)
