"""Feedback's migrations on SQLite and PostgreSQL: a database with an unanswered survey from
revision 0001 upgrades (the scheduler will expire it) and downgrades cleanly, and the tables
match the ORM (no migration missing)."""
from datetime import datetime, timezone

from sqlalchemy import text

from aftersales.db import make_engine
from services.feedback.adapters.orm import metadata
from tests.support.migrations import downgrade, orm_diff, upgrade


def test_a_database_with_surveys_upgrades_and_matches_the_orm(database_urls):
    engine = make_engine(database_urls["feedback"])
    expires = datetime(2026, 12, 1, tzinfo=timezone.utc)
    try:
        upgrade("feedback", engine, "0001")
        with engine.begin() as c:
            c.execute(text("INSERT INTO surveys (survey_id, token, ticket_no, branch, issued_at, "
                           "expires_at, follow_up_required) VALUES ('s1', 't1', 'SH-1', 'SH', "
                           ":at, :exp, false)"),
                      {"at": datetime(2026, 11, 17, tzinfo=timezone.utc), "exp": expires})
        upgrade("feedback", engine)
        with engine.connect() as c:
            sent, due = c.execute(text("SELECT reminders_sent, next_due_at FROM surveys")).one()
            assert sent == 0 and due is not None
            diff = orm_diff(c, metadata)
        assert diff == [], diff
        downgrade("feedback", engine, "0001")
        upgrade("feedback", engine)
    finally:
        engine.dispose()
