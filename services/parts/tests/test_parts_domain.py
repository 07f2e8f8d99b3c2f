"""Parts' domain: on-hand from the ledger, and taking a job's parts without going negative."""
from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.parts.domain.model import (CONSUME, RECEIVE, LedgerEntry, Line, on_hand,
                                         plan_consumption)

T0 = datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)


def entry(warehouse, sku, qty, kind=RECEIVE):
    return LedgerEntry(warehouse=warehouse, sku=sku, quantity=qty, kind=kind, created_at=T0)


def test_on_hand_is_the_sum_of_the_ledger_per_warehouse_and_sku():
    ledger = [entry("SH", "A", 10), entry("SH", "A", -3, CONSUME), entry("HZ", "A", 5),
              entry("SH", "B", 2), entry("SH", "A", -7, CONSUME)]
    assert on_hand(ledger) == {("SH", "A"): 0, ("HZ", "A"): 5, ("SH", "B"): 2}


def test_ledger_entries_have_the_sign_of_their_kind():
    with pytest.raises(ValueError):
        entry("SH", "A", -1, RECEIVE)
    with pytest.raises(ValueError):
        entry("SH", "A", 1, CONSUME)
    with pytest.raises(ValueError):
        entry("SH", "A", 0)
    with pytest.raises(ValueError):
        entry("SH", "A", 1, "teleport")


def test_lines_that_fit_are_consumed_and_a_short_line_takes_nothing():
    plan = plan_consumption({"A": 5, "B": 1}, [Line("A", 3, "SN-1"), Line("B", 2), Line("C", 1)])
    assert plan.consume == (Line("A", 3, "SN-1"),)
    assert plan.shortages == (Line("B", 2), Line("C", 1))
    [e] = plan.entries("SH", T0, "SH-20261122-0001", "evt")
    assert (e.warehouse, e.sku, e.quantity, e.kind, e.ticket_no, e.serial_no) == \
        ("SH", "A", -3, CONSUME, "SH-20261122-0001", "SN-1")


def test_repeated_sku_lines_share_what_is_on_hand():
    plan = plan_consumption({"A": 5}, [Line("A", 3), Line("A", 3), Line("A", 2)])
    assert plan.consume == (Line("A", 3), Line("A", 2))
    assert plan.shortages == (Line("A", 3),)


SKUS = st.sampled_from(["A", "B", "C"])
RECEIPT = st.tuples(st.just("receive"), SKUS, st.integers(1, 20))
JOB = st.tuples(st.just("job"), st.lists(st.tuples(SKUS, st.integers(1, 15)), max_size=4))


@given(st.lists(st.one_of(RECEIPT, JOB), max_size=40))
def test_on_hand_never_goes_negative_whatever_jobs_arrive(operations):
    ledger: list[LedgerEntry] = []
    for op in operations:
        if op[0] == "receive":
            ledger.append(entry("SH", op[1], op[2]))
            continue
        lines = [Line(sku, qty) for sku, qty in op[1]]
        stock = {sku: n for (_w, sku), n in on_hand(ledger).items()}
        plan = plan_consumption(stock, lines)
        assert sorted(plan.consume + plan.shortages, key=repr) == sorted(lines, key=repr)
        ledger.extend(plan.entries("SH", T0, "T"))
        assert all(n >= 0 for n in on_hand(ledger).values())
        # a shortage is real: taking that line too would have gone below zero
        after = {sku: n for (_w, sku), n in on_hand(ledger).items()}
        assert all(after.get(s.sku, 0) < s.quantity for s in plan.shortages)
