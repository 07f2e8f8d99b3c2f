"""Parts' migrations on SQLite and PostgreSQL: a database with data from revision 0001 upgrades
(and downgrades) cleanly, and the tables match the ORM (no migration missing)."""
from datetime import datetime, timezone

from sqlalchemy import text

from services.parts.adapters.orm import metadata
from tests.support.migrations import assert_matches_orm_and_reverses, at_revision_with, upgrade


def test_a_database_with_ledger_rows_upgrades_and_matches_the_orm(engine_for):
    engine = engine_for("parts")
    at_revision_with("parts", engine, "0001",
                     ("INSERT INTO parts (sku, name, unit, cost_price, price) "
                      "VALUES ('GJ-LT-C160', '屋面檩条', '米', 38.50, 56.00)", {}),
                     ("INSERT INTO stock_ledger (warehouse, sku, quantity, kind, created_at) "
                      "VALUES ('SH', 'GJ-LT-C160', 200, 'receive', :at)",
                      {"at": datetime(2026, 11, 1, tzinfo=timezone.utc)}))
    upgrade("parts", engine)
    with engine.connect() as c:
        assert c.execute(text("SELECT lead_time_days, reorder_point FROM parts")).one() == (14, None)
        assert c.execute(text("SELECT quantity, reserved, issued FROM stock_ledger")).one() == \
            (200, 0, 0)
    assert_matches_orm_and_reverses("parts", engine, metadata)
