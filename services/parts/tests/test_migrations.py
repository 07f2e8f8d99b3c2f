"""Parts' migrations on SQLite and PostgreSQL: a database with data from revision 0001 upgrades
(and downgrades) cleanly, the ledger of revision 0005 is carried into stock_balances (0006),
and the tables match the ORM (no migration missing)."""
from datetime import datetime, timezone

from sqlalchemy import text

from aftersales.db import session_factory
from services.parts.adapters.orm import metadata
from services.parts.adapters.repository import LedgerRepository
from services.parts.domain.model import LedgerEntry, StockPosition
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


AT = datetime(2026, 11, 1, tzinfo=timezone.utc)
LEDGER = ("INSERT INTO stock_ledger (warehouse, sku, quantity, kind, created_at, reserved, "
          "issued, request_id) VALUES (:w, :sku, :q, :kind, :at, :r, :i, :req)")


def _row(w, sku, q, kind, r=0, i=0, req=None):
    return (LEDGER, {"w": w, "sku": sku, "q": q, "kind": kind, "at": AT, "r": r, "i": i,
                     "req": req})


def test_the_ledger_at_0005_is_backfilled_into_stock_balances(engine_for):
    engine = engine_for("parts")
    at_revision_with("parts", engine, "0005",
                     ("INSERT INTO parts (sku, name, unit, cost_price, price) VALUES "
                      "('GJ-LT-C160', '屋面檩条', '米', 38.50, 56.00), "
                      "('DQ-DL-63A', '断路器', '个', 68.00, 115.00)", {}),
                     _row("SH", "GJ-LT-C160", 200, "receive"),
                     _row("SH", "GJ-LT-C160", 0, "reserve", r=5, req="PR-1"),
                     _row("SH", "GJ-LT-C160", 0, "ship", i=3, req="PR-1"),
                     _row("SH", "GJ-LT-C160", -2, "consume", r=-2, i=-2, req="PR-1"),
                     _row("SH", "DQ-DL-63A", 4, "receive"),
                     _row("SH", "DQ-DL-63A", -4, "scrap"),
                     _row("HZ", "GJ-LT-C160", 30, "receive"),
                     _row("HZ", "GJ-LT-C160", -10, "transfer_out"))
    upgrade("parts", engine)
    with engine.connect() as c:
        rows = c.execute(text("SELECT warehouse, sku, on_hand, reserved, issued "
                              "FROM stock_balances ORDER BY warehouse, sku")).all()
    assert [tuple(r) for r in rows] == [("HZ", "GJ-LT-C160", 20, 0, 0),
                                        ("SH", "DQ-DL-63A", 0, 0, 0),
                                        ("SH", "GJ-LT-C160", 198, 3, 1)]
    with session_factory(engine)() as s:      # the positions read the backfilled balances
        ledger = LedgerRepository(s)
        assert ledger.position("SH", "GJ-LT-C160") == StockPosition(198, 3, 1)
        ledger.append(LedgerEntry(warehouse="SH", sku="GJ-LT-C160", quantity=0, kind="release",
                                  created_at=AT, reserved=-1, issued=-1, request_id="PR-1"))
        ledger.append(LedgerEntry(warehouse="BJ", sku="DQ-DL-63A", quantity=6, kind="receive",
                                  created_at=AT))
        s.commit()
        assert ledger.all_positions() == {("HZ", "GJ-LT-C160"): StockPosition(20, 0, 0),
                                          ("SH", "DQ-DL-63A"): StockPosition(0, 0, 0),
                                          ("SH", "GJ-LT-C160"): StockPosition(198, 2, 0),
                                          ("BJ", "DQ-DL-63A"): StockPosition(6, 0, 0)}
    assert_matches_orm_and_reverses("parts", engine, metadata)
