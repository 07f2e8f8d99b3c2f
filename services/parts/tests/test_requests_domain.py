"""Parts' domain, hand-worked: movements and their signs, positions, allocation (local,
transfer, backorder), nearest branches, approval rule, the request's life, taking a job's
parts from what its requests hold, reorder crossings, stocktakes, the monthly ledger, QC
statistics and catalogue rows."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from services.parts.domain import model, reports
from services.parts.domain import requests as rq
from services.parts.domain import returns as rma
from services.parts.domain.catalogue import RowErrors, parse_row
from services.parts.domain.model import (Hold, Line, Part, ReorderState, StockError,
                                         StockPosition, movement, plan_job_consumption,
                                         positions, reorder_crossing, stocktake)

T0 = datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)
BRANCHES = {
    "SH": {"neighbours": ["HZ", "BJ"]}, "HZ": {"neighbours": ["SH"]},
    "BJ": {"neighbours": ["SH"]}, "GZ": {"neighbours": ["HZ"]}, "XJ": {},
}
PART = Part("DQ-DL-NXB63", "配电柜断路器", "个", Decimal("68.00"), Decimal("115.00"),
            ("配电柜 GGD-2",), 7, 8)


# -- movements and positions ---------------------------------------------------------------------
@pytest.mark.parametrize("kind,kw,expected", [
    ("receive", {}, (5, 0, 0)), ("reserve", {}, (0, 5, 0)), ("release", {}, (0, -5, 0)),
    ("release", {"issued": True}, (0, -5, -5)), ("ship", {}, (0, 0, 5)),
    ("consume", {}, (-5, 0, 0)), ("consume", {"from_reserved": True}, (-5, -5, 0)),
    ("consume", {"issued": True}, (-5, -5, -5)), ("return", {}, (5, 0, 0)),
    ("transfer_out", {}, (-5, 0, 0)), ("transfer_in", {}, (5, 0, 0)), ("scrap", {}, (-5, 0, 0)),
])
def test_each_kind_moves_on_hand_reserved_and_issued_as_documented(kind, kw, expected):
    e = movement(kind, "SH", "A", 5, T0, **kw)
    assert (e.quantity, e.reserved, e.issued) == expected and e.amount == 5


def test_entries_that_break_their_kinds_pattern_are_refused():
    with pytest.raises(ValueError):
        model.LedgerEntry("SH", "A", 1, "reserve", T0)                  # reserve moves reserved
    with pytest.raises(ValueError):
        model.LedgerEntry("SH", "A", -2, "consume", T0, reserved=-1)     # different amounts
    with pytest.raises(ValueError):
        model.LedgerEntry("SH", "A", 0, "ship", T0, reserved=1)
    with pytest.raises(ValueError):
        movement("receive", "SH", "A", 0, T0)
    assert movement("adjust", "SH", "A", -3, T0).quantity == -3


def test_position_refuses_what_would_break_the_invariants():
    p = StockPosition().apply(movement("receive", "SH", "A", 2, T0))
    p = p.apply(movement("reserve", "SH", "A", 2, T0))
    assert (p.on_hand, p.reserved, p.available) == (2, 2, 0)
    with pytest.raises(StockError):
        p.apply(movement("reserve", "SH", "A", 1, T0))         # nothing available
    with pytest.raises(StockError):
        p.apply(movement("scrap", "SH", "A", 1, T0))           # would eat a reservation
    with pytest.raises(StockError):
        p.apply(movement("ship", "SH", "A", 3, T0))            # ship only what is reserved
    p = p.apply(movement("ship", "SH", "A", 1, T0))
    assert (p.issued, p.on_shelf) == (1, 1)
    with pytest.raises(StockError):
        p.apply(movement("release", "SH", "A", 2, T0, issued=True))
    p = p.apply(movement("consume", "SH", "A", 1, T0, issued=True))
    assert (p.on_hand, p.reserved, p.issued) == (1, 1, 0)


def test_positions_sum_the_ledger_per_warehouse_and_sku():
    ledger = [movement("receive", "SH", "A", 10, T0), movement("reserve", "SH", "A", 4, T0),
              movement("ship", "SH", "A", 3, T0), movement("receive", "HZ", "A", 1, T0),
              movement("consume", "SH", "A", 2, T0, issued=True)]
    pos = positions(ledger)
    assert pos[("SH", "A")] == StockPosition(8, 2, 1)
    assert pos[("HZ", "A")] == StockPosition(1, 0, 0)
    assert model.on_hand(ledger) == {("SH", "A"): 8, ("HZ", "A"): 1}


# -- where the parts come from -------------------------------------------------------------------
def test_nearest_branches_breadth_first_both_ways_in_listed_order():
    assert rq.nearest_branches(BRANCHES, "SH") == ["HZ", "BJ", "GZ"]
    assert rq.nearest_branches(BRANCHES, "GZ") == ["HZ", "SH", "BJ"]
    assert rq.nearest_branches(BRANCHES, "BJ") == ["SH", "HZ", "GZ"]
    assert rq.nearest_branches(BRANCHES, "XJ") == []          # no neighbours: no transfers


def test_allocation_reserves_locally_then_transfers_from_the_nearest_then_backorders():
    plan = rq.plan_allocation({"A": 5, "B": 2, "C": 1},
                              local={"A": 2, "B": 2},
                              others=[("HZ", {"A": 1}), ("BJ", {"A": 10}), ("GZ", {"C": 0})])
    assert plan.reserve == (Line("A", 2), Line("B", 2))
    assert plan.transfers == (("HZ", (Line("A", 1),)), ("BJ", (Line("A", 2),)))
    assert plan.backorders == (Line("C", 1),)
    assert not plan.complete
    assert rq.plan_allocation({"A": 1}, {"A": 1}, []).complete


def test_negative_availability_is_treated_as_none():
    plan = rq.plan_allocation({"A": 1}, {"A": -3}, [("HZ", {"A": -1})])
    assert plan.backorders == (Line("A", 1),) and not plan.reserve and not plan.transfers


# -- approval and the request's life ----------------------------------------------------------------
def a_request(in_warranty=True, quantity=2):
    return rq.PartsRequest("PR-1", "SH-20261122-0001", "SH", in_warranty,
                           (rq.RequestLine.of(PART, quantity),), "E-SH-007", T0)


def test_values_and_the_auto_approval_rule():
    r = a_request(quantity=3)
    assert (r.total, r.cost_total, r.chargeable_total) == (Decimal("345.00"), Decimal("204.00"),
                                                           Decimal("0.00"))
    assert a_request(in_warranty=False).chargeable_total == Decimal("230.00")
    assert rq.auto_approves(True, Decimal("1999.99"), Decimal("2000"))
    assert not rq.auto_approves(True, Decimal("2000.00"), Decimal("2000"))     # under, not at
    assert not rq.auto_approves(False, Decimal("1.00"), Decimal("2000"))


def test_the_request_life_and_what_is_refused():
    r = a_request()
    with pytest.raises(rq.InvalidTransition):
        r.ship("w", T0)
    r.approve("m", T0, note="ok")
    assert (r.status, r.decided_by, r.auto_approved) == (rq.OPEN, "m", False)
    with pytest.raises(rq.InvalidTransition):
        r.reject("m", T0, "too late")
    r.ship("w", T0)
    with pytest.raises(rq.InvalidTransition):
        r.cancel("d", T0, "no")                 # parts are out: bring them back first
    r.deliver("e", T0)
    r.complete("job", T0, parts_out=True)
    assert r.status == rq.COMPLETED
    r.return_unused("w", T0)
    assert r.status == rq.CLOSED
    assert [h["action"] for h in r.history] == ["approve", "ship", "deliver", "complete",
                                                "return_unused"]


def test_completion_closes_or_cancels():
    r = a_request()
    r.approve("auto", T0, auto=True)
    r.complete("job", T0, parts_out=False)
    assert r.status == rq.CLOSED
    pending = a_request()
    pending.complete("job", T0, parts_out=False)
    assert pending.status == rq.CANCELLED and pending.reason == "job completed before approval"


# -- a job's parts ----------------------------------------------------------------------------------
def test_a_job_takes_issued_then_reserved_then_free_stock_and_leaves_the_rest():
    holds = [Hold("PR-1", "A", shelf=1, issued=2), Hold("PR-2", "A", shelf=1)]
    plan = plan_job_consumption([Line("A", 5, "SN-NEW-1")], holds, {"A": 3})
    assert [(t.source, t.request_id, t.quantity, t.serial_no) for t in plan.takes] == [
        ("issued", "PR-1", 2, "SN-NEW-1"), ("reserved", "PR-1", 1, None),
        ("reserved", "PR-2", 1, None), ("stock", None, 1, None)]
    assert plan.consumed() == (Line("A", 5, "SN-NEW-1"),) and not plan.shortages
    assert plan.leftovers == ()
    kinds = [(e.quantity, e.reserved, e.issued) for e in plan.entries("SH", T0, "T")]
    assert kinds == [(-2, -2, -2), (-1, -1, 0), (-1, -1, 0), (-1, 0, 0)]


def test_what_is_not_held_is_taken_whole_from_stock_or_is_a_shortage():
    plan = plan_job_consumption([Line("A", 3), Line("B", 1)], [Hold("PR-1", "A", shelf=1)],
                                {"A": 1, "B": 0})
    assert plan.consumed() == (Line("A", 1),)
    assert plan.shortages == (Line("A", 2), Line("B", 1))


def test_unused_parts_are_left_over():
    plan = plan_job_consumption([Line("A", 1)], [Hold("PR-1", "A", shelf=2, issued=1),
                                                 Hold("PR-1", "B", shelf=1)], {})
    assert plan.leftovers == (Hold("PR-1", "A", shelf=2, issued=0), Hold("PR-1", "B", shelf=1))


# -- reorder points and stocktakes ----------------------------------------------------------------------
def test_reorder_needed_once_per_crossing():
    s = ReorderState(5)
    fired = []
    for available in (9, 6, 5, 4, 0, 3, 6, 7, 5, 2, 8):
        s, fire = reorder_crossing(s, available)
        fired.append(fire)
    assert fired == [False, False, True, False, False, False, False, False, True, False, False]
    assert reorder_crossing(ReorderState(None, True), 0) == (ReorderState(None, False), False)


def test_stocktake_adjusts_the_shelf_and_keeps_reservations():
    p = StockPosition(on_hand=10, reserved=4, issued=1)      # 9 on the shelf
    assert stocktake(p, 9) == 0
    assert stocktake(p, 7) == -2
    assert stocktake(p, 12) == 3
    assert stocktake(p, 3) == -6                              # 3 on shelf + 1 issued >= 4 reserved
    with pytest.raises(StockError):
        stocktake(p, 2)


# -- monthly ledger ---------------------------------------------------------------------------------
def test_month_bounds_are_the_branches_calendar_month():
    start, end = reports.month_bounds("2026-11", "Asia/Shanghai")
    assert start == datetime(2026, 10, 31, 16, tzinfo=timezone.utc)
    assert end == datetime(2026, 11, 30, 16, tzinfo=timezone.utc)
    assert reports.month_bounds("2026-12", "UTC")[1] == datetime(2027, 1, 1, tzinfo=timezone.utc)
    for bad in ("2026-13", "2026-1", "Nov", "2026/11"):
        with pytest.raises(ValueError):
            reports.month_bounds(bad, "UTC")


def test_monthly_ledger_from_opening_and_movements():
    parts = {"A": Part("A", "檩条", "米", Decimal("38.50"), Decimal("56"))}
    moves = [movement("receive", "SH", "A", 10, T0), movement("reserve", "SH", "A", 3, T0),
             movement("consume", "SH", "A", 2, T0, from_reserved=True),
             movement("transfer_out", "SH", "A", 1, T0), movement("adjust", "SH", "A", -1, T0),
             movement("receive", "SH", "B", 4, T0)]
    lines = reports.monthly_ledger({"A": 5, "C": 0}, moves, parts)
    a, b = lines
    assert (a.opening, a.received, a.consumed, a.transferred_out, a.adjusted, a.closing) == \
        (5, 10, 2, 1, -1, 11)
    assert a.consumed_value == Decimal("77.00") and a.closing_value == Decimal("423.50")
    assert (b.sku, b.opening, b.closing, b.name) == ("B", 0, 4, "B")
    assert reports.totals(lines) == {"consumed_value": "77.00", "closing_value": "423.50"}


# -- returns and QC ---------------------------------------------------------------------------------
def test_a_return_is_inspected_once():
    r = rma.PartReturn("RMA-1", "SH", "A", "SN-OLD", "配电柜 GGD-2", "触点烧蚀", "E", T0)
    done = r.inspect(rma.DESIGN_DEFECT, "qc", T0, "灭弧罩设计缺陷")
    assert (done.status, done.decision) == (rma.INSPECTED, rma.DESIGN_DEFECT)
    with pytest.raises(rma.AlreadyInspected):
        done.inspect(rma.SCRAPPED, "qc", T0)
    with pytest.raises(ValueError):
        r.inspect("lost", "qc", T0)


def test_defect_statistics_per_model():
    def ret(i, model_, fault, decision=None):
        r = rma.PartReturn(f"RMA-{i}", "SH", "A", None, model_, fault, "E", T0 + timedelta(i))
        return r.inspect(decision, "qc", T0) if decision else r
    stats = rma.defect_statistics([
        ret(1, "GGD-2", "触点烧蚀", rma.DESIGN_DEFECT), ret(2, "GGD-2", "触点烧蚀", rma.DESIGN_DEFECT),
        ret(3, "GGD-2", "外壳破损", rma.SCRAPPED), ret(4, "GGD-2", "触点烧蚀"),
        ret(5, "LG-22", "堵塞", rma.RESTOCKED)])
    ggd, lg = stats
    assert (ggd["model"], ggd["returns"], ggd["design_defects"], ggd["awaiting_inspection"]) == \
        ("GGD-2", 4, 2, 1)
    assert ggd["decisions"] == {"repaired_and_restocked": 0, "scrapped": 1, "design_defect": 2}
    assert ggd["top_faults"][0] == {"fault": "触点烧蚀", "count": 3}
    assert ggd["design_defect_faults"] == [{"fault": "触点烧蚀", "count": 2}]
    assert ggd["defect_rate"] == 0.5 and lg["decisions"]["repaired_and_restocked"] == 1


# -- catalogue rows ---------------------------------------------------------------------------------
def test_a_catalogue_row_names_every_bad_column():
    part, initial = parse_row({"sku": "DQ-1", "name": "断路器", "unit": "个", "cost_price": "68",
                               "price": "115.5", "compatible_models": "GGD-2; 水泵控制柜；GGD-2",
                               "lead_time_days": "", "reorder_point": "8"})
    assert part.compatible_models == ("GGD-2", "水泵控制柜") and part.lead_time_days == 14
    assert part.reorder_point == 8 and initial == 0 and part.fits("水泵控制柜")
    with pytest.raises(RowErrors) as exc:
        parse_row({"sku": "bad sku", "name": "", "unit": "个", "cost_price": "-1",
                   "price": "1.234", "lead_time_days": "x", "reorder_point": "-2"})
    assert [c for c, _ in exc.value.errors] == ["sku", "name", "cost_price", "price",
                                                "lead_time_days", "reorder_point"]
