"""Feedback's migrations on SQLite and PostgreSQL: a database with an unanswered survey from
revision 0001 upgrades (the scheduler will expire it) and downgrades cleanly, and the tables
match the ORM (no migration missing)."""
from datetime import datetime, timezone

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, text

from aftersales.db import make_engine
from aftersales.outbox import reliability_metadata
from aftersales.registry import migrations_dir
from services.feedback.adapters.orm import metadata


def config(engine) -> Config:
    c = Config()
    c.set_main_option("script_location", str(migrations_dir("feedback")))
    c.attributes["connection_engine"] = engine
    return c


def test_a_database_with_surveys_upgrades_and_matches_the_orm(database_urls):
    engine = make_engine(database_urls["feedback"])
    expires = datetime(2026, 12, 1, tzinfo=timezone.utc)
    try:
        command.upgrade(config(engine), "0001")
        with engine.begin() as c:
            c.execute(text("INSERT INTO surveys (survey_id, token, ticket_no, branch, issued_at, "
                           "expires_at, follow_up_required) VALUES ('s1', 't1', 'SH-1', 'SH', "
                           ":at, :exp, false)"),
                      {"at": datetime(2026, 11, 17, tzinfo=timezone.utc), "exp": expires})
        command.upgrade(config(engine), "head")
        with engine.connect() as c:
            sent, due = c.execute(text("SELECT reminders_sent, next_due_at FROM surveys")).one()
            assert sent == 0 and due is not None
            diff = compare_metadata(MigrationContext.configure(c), _both())
        assert diff == [], diff
        command.downgrade(config(engine), "0001")
        command.upgrade(config(engine), "head")
    finally:
        engine.dispose()


def _both():
    combined = MetaData()
    for md in (reliability_metadata, metadata):
        for table in md.tables.values():
            table.to_metadata(combined)
    return combined
