"""Feedback's migrations on SQLite and PostgreSQL: a database with an unanswered survey from
revision 0001 upgrades (the scheduler will expire it) and downgrades cleanly, and the tables
match the ORM (no migration missing); 0004's rename keeps the closed jobs' rows."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import inspect, text

from services.feedback.adapters.orm import metadata
from tests.support.migrations import (assert_matches_orm_and_reverses, at_revision_with,
                                      downgrade, orm_diff, upgrade)


@pytest.fixture
def engine(engine_for):
    return engine_for("feedback")


def test_a_database_with_surveys_upgrades_and_matches_the_orm(engine):
    expires = datetime(2026, 12, 1, tzinfo=timezone.utc)
    at_revision_with("feedback", engine, "0001",
                     ("INSERT INTO surveys (survey_id, token, ticket_no, branch, issued_at, "
                      "expires_at, follow_up_required) VALUES ('s1', 't1', 'SH-1', 'SH', "
                      ":at, :exp, false)",
                      {"at": datetime(2026, 11, 17, tzinfo=timezone.utc), "exp": expires}))
    upgrade("feedback", engine)
    with engine.connect() as c:
        sent, due = c.execute(text("SELECT reminders_sent, next_due_at FROM surveys")).one()
        assert sent == 0 and due is not None
    assert_matches_orm_and_reverses("feedback", engine, metadata)


def test_jobs_becomes_closed_jobs_with_its_rows_and_indexes_and_back(engine):
    closed = datetime(2026, 11, 20, 8, 30, tzinfo=timezone.utc)
    at_revision_with("feedback", engine, "0003",
                     ("INSERT INTO jobs (ticket_no, branch, category, customer, engineer_id, "
                      "closed_at, first_time_fix, rework_count) VALUES ('SH-7', 'SH', 'fault', "
                      ":customer, 'E-SH-007', :at, true, 1)",
                      {"customer": '{"contact_name": "张伟"}', "at": closed}))
    upgrade("feedback", engine)
    with engine.connect() as c:
        insp = inspect(c)
        assert "jobs" not in insp.get_table_names()
        assert sorted(i["name"] for i in insp.get_indexes("closed_jobs")) == [
            "ix_closed_jobs_branch", "ix_closed_jobs_closed_at", "ix_closed_jobs_engineer_id"]
        row = c.execute(text("SELECT ticket_no, branch, customer, engineer_id, "
                             "first_time_fix, rework_count FROM closed_jobs")).one()
        assert tuple(row) == ("SH-7", "SH", '{"contact_name": "张伟"}', "E-SH-007", True, 1)
        diff = orm_diff(c, metadata)
    assert diff == [], diff
    downgrade("feedback", engine, "0003")
    with engine.connect() as c:
        insp = inspect(c)
        assert "closed_jobs" not in insp.get_table_names()
        assert sorted(i["name"] for i in insp.get_indexes("jobs")) == [
            "ix_jobs_branch", "ix_jobs_closed_at", "ix_jobs_engineer_id"]
        assert c.execute(text("SELECT ticket_no FROM jobs")).scalars().all() == ["SH-7"]
