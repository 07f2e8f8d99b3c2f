"""The stock book of one transaction (pure: positions read and entries recorded through the
callables it is given)."""
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from services.parts.domain import model, stock
from services.parts.domain.model import Hold, Part, ReorderState, StockError, StockPosition

T0 = datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)
PART = Part("A", "檩条", "米", Decimal("38.50"), Decimal("56"), lead_time_days=7, reorder_point=3)


def book(levels):
    loaded, recorded = [], []

    def load(warehouse, sku):
        loaded.append((warehouse, sku))
        return levels.get((warehouse, sku), StockPosition())

    return stock.StockBook(T0, load, recorded.append), loaded, recorded


def test_a_movement_is_checked_recorded_and_read_back_without_loading_again():
    b, loaded, recorded = book({("SH", "A"): StockPosition(5, 1, 0)})
    reserve = model.movement(model.RESERVE, "SH", "A", 4, T0, request_id="PR-1")
    assert b.post(reserve) == StockPosition(5, 5, 0)
    assert b.available("SH", ["A"]) == {"A": 0}
    assert recorded == [reserve] and loaded == [("SH", "A")]


def test_an_impossible_movement_records_nothing():
    b, _, recorded = book({("SH", "A"): StockPosition(2, 0, 0)})
    with pytest.raises(StockError):
        b.post(model.movement(model.SCRAP, "SH", "A", 3, T0))
    assert recorded == [] and b.position("SH", "A") == StockPosition(2, 0, 0)


def test_the_reorder_check_fires_on_a_crossing_only_for_what_was_touched():
    b, _, _ = book({("SH", "A"): StockPosition(5, 0, 0), ("HZ", "A"): StockPosition(9, 0, 0)})
    b.post(model.movement(model.SCRAP, "SH", "A", 2, T0))
    b.touch("HZ", "A")
    assert b.touched() == [("HZ", "A"), ("SH", "A")]
    hz, sh = b.reorder_checks({"A": PART}, {("SH", "A"): ReorderState(3, False),
                                            ("HZ", "A"): ReorderState(3, False)})
    assert (hz.warehouse, hz.after, hz.needed) == ("HZ", ReorderState(3, False), None)
    assert sh.after == ReorderState(3, True)
    assert sh.needed == {"warehouse": "SH", "sku": "A", "name": "檩条", "on_hand": 3,
                         "reserved": 0, "available": 3, "reorder_point": 3,
                         "suggested_quantity": 3, "lead_time_days": 7}
    assert b.touched() == []        # checked once


def test_holds_come_from_the_sums_per_request_in_the_order_asked():
    sums = [("PR-2", "B", 2, 0), ("PR-1", "B", 3, 1), ("PR-1", "A", 1, 0), ("PR-2", "A", 0, 0)]
    assert stock.holds(sums, ["PR-1", "PR-2"]) == [
        Hold("PR-1", "A", shelf=1), Hold("PR-1", "B", shelf=2, issued=1), Hold("PR-2", "B", shelf=2)]
