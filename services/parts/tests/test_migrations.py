"""Parts' migrations on SQLite and PostgreSQL: a database with data from revision 0001 upgrades
(and downgrades) cleanly, and the tables match the ORM (no migration missing)."""
from datetime import datetime, timezone

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import text

from aftersales.db import make_engine
from aftersales.outbox import reliability_metadata
from aftersales.registry import migrations_dir
from services.parts.adapters.orm import metadata


def config(engine) -> Config:
    c = Config()
    c.set_main_option("script_location", str(migrations_dir("parts")))
    c.attributes["connection_engine"] = engine
    return c


def test_a_database_with_ledger_rows_upgrades_and_matches_the_orm(database_urls):
    engine = make_engine(database_urls["parts"])
    try:
        command.upgrade(config(engine), "0001")
        with engine.begin() as c:
            c.execute(text("INSERT INTO parts (sku, name, unit, cost_price, price) "
                           "VALUES ('GJ-LT-C160', '屋面檩条', '米', 38.50, 56.00)"))
            c.execute(text("INSERT INTO stock_ledger (warehouse, sku, quantity, kind, created_at) "
                           "VALUES ('SH', 'GJ-LT-C160', 200, 'receive', :at)"),
                      {"at": datetime(2026, 11, 1, tzinfo=timezone.utc)})
        command.upgrade(config(engine), "head")
        with engine.connect() as c:
            assert c.execute(text("SELECT lead_time_days, reorder_point FROM parts")).one() == (14, None)
            assert c.execute(text("SELECT quantity, reserved, issued FROM stock_ledger")).one() == \
                (200, 0, 0)
            diff = compare_metadata(MigrationContext.configure(c), _both())
        assert diff == [], diff
        command.downgrade(config(engine), "0001")
        command.upgrade(config(engine), "head")
    finally:
        engine.dispose()


def _both():
    from sqlalchemy import MetaData
    combined = MetaData()
    for md in (reliability_metadata, metadata):
        for table in md.tables.values():
            table.to_metadata(combined)
    return combined
