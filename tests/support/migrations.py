"""Helpers for the migration tests of every service: drive one service's Alembic scripts on a
given engine, and compare what the migrations built with what the ORM declares."""
from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, text

from aftersales.outbox import reliability_metadata
from aftersales.registry import migrations_dir


def alembic_config(service: str, engine) -> Config:
    c = Config()
    c.set_main_option("script_location", str(migrations_dir(service)))
    c.attributes["connection_engine"] = engine
    return c


def upgrade(service: str, engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(service, engine), revision)


def downgrade(service: str, engine, revision: str) -> None:
    command.downgrade(alembic_config(service, engine), revision)


def orm_diff(connection, metadata: MetaData) -> list:
    """What differs between the migrated database and the service's tables plus the shared
    outbox/inbox tables: ``[]`` when no migration is missing."""
    combined = MetaData()
    for md in (reliability_metadata, metadata):
        for table in md.tables.values():
            table.to_metadata(combined)
    return compare_metadata(MigrationContext.configure(connection), combined)


def assert_matches_orm_and_reverses(service: str, engine, metadata: MetaData) -> None:
    """The migrated database holds exactly the ORM's tables, and the migrations go down to the
    first revision and up to head again cleanly."""
    with engine.connect() as c:
        diff = orm_diff(c, metadata)
    assert diff == [], diff
    downgrade(service, engine, "0001")
    upgrade(service, engine)


def at_revision_with(service: str, engine, revision: str, *rows: tuple[str, dict]) -> None:
    """The service's database migrated to ``revision``, holding the rows the ``(INSERT, params)``
    pairs write (data as an older release left it)."""
    upgrade(service, engine, revision)
    with engine.begin() as c:
        for insert, params in rows:
            c.execute(text(insert), params)
