"""Intake's migrations on SQLite and PostgreSQL: they build exactly the tables the ORM declares
(no migration missing), and go down to the first revision and up again cleanly."""
from aftersales.db import make_engine
from services.intake.adapters.orm import metadata
from tests.support.migrations import downgrade, orm_diff, upgrade


def test_the_migrations_build_the_orm_tables_and_go_down_and_up(database_urls):
    engine = make_engine(database_urls["intake"])
    try:
        upgrade("intake", engine)
        with engine.connect() as c:
            diff = orm_diff(c, metadata)
        assert diff == [], diff
        downgrade("intake", engine, "0001")
        upgrade("intake", engine)
    finally:
        engine.dispose()
