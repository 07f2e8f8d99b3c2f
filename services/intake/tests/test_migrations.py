"""Intake's migrations on SQLite and PostgreSQL: they build exactly the tables the ORM declares
(no migration missing), and go down to the first revision and up again cleanly."""
from services.intake.adapters.orm import metadata
from tests.support.migrations import assert_matches_orm_and_reverses, upgrade


def test_the_migrations_build_the_orm_tables_and_go_down_and_up(engine_for):
    engine = engine_for("intake")
    upgrade("intake", engine)
    assert_matches_orm_and_reverses("intake", engine, metadata)
