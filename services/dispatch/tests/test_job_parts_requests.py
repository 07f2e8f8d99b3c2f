"""The job's parts requests as the parts service reports them, and the quote priced from them
(pure: no I/O)."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from services.dispatch.domain import model, quotes

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
LINES = [{"sku": "GJ-LT-C160", "name": "屋面檩条 C型钢 C160×60×20×2.5", "unit": "米",
          "quantity": 3, "unit_price": "56.00", "line_total": "168.00"},
         {"sku": "GJ-LS-M20", "name": "高强度螺栓 M20×80 10.9级", "unit": "套", "quantity": 10,
          "unit_price": "12.00", "line_total": "120.00"}]


def paid_job(status=model.DIAGNOSED) -> model.Job:
    return model.Job("SH-20261123-0001", "SH", "B", "fault", T0, status, engineer_id="SH-E001",
                     in_warranty=False)


def approve(job, rid="PR-1", total="288.00", chargeable="288.00", lines=LINES):
    job.parts_approved(rid, T0, lines, Decimal(total), Decimal(chargeable), in_warranty=False,
                       approved_by="mgr-key", auto_approved=False)


def one(job, rid="PR-1") -> dict:
    [r] = [r for r in job.parts_requests if r["request_id"] == rid]
    return r


def test_an_approved_request_carries_prices_and_its_chargeable_total():
    job = paid_job()
    assert job.parts_chargeable_total == Decimal("0.00") and job.parts_expected_at is None
    approve(job)
    r = one(job)
    assert r["status"] == "approved" and r["total"] == "288.00"
    assert [(ln["sku"], ln["unit_price"], ln["name"]) for ln in r["lines"]] == [
        ("GJ-LT-C160", "56.00", "屋面檩条 C型钢 C160×60×20×2.5"),
        ("GJ-LS-M20", "12.00", "高强度螺栓 M20×80 10.9级")]
    assert job.parts_chargeable_total == Decimal("288.00")
    assert job.approved_parts_request_ids == ["PR-1"]


def test_totals_add_up_exactly_without_float_drift():
    job = paid_job()
    for i in range(10):
        approve(job, f"PR-{i}", total="0.10", chargeable="0.10", lines=[])
    assert job.parts_chargeable_total == Decimal("1.00")       # 0.1 * 10 in floats is 0.999…
    assert str(job.parts_chargeable_total) == "1.00"


def test_a_rejected_request_is_not_charged_and_in_warranty_parts_cost_nothing():
    job = paid_job()
    job.parts_rejected("PR-1", T0, "非本型号配件")
    assert one(job)["status"] == "rejected" and one(job)["reason"] == "非本型号配件"
    approve(job, "PR-2", total="230.00", chargeable="0.00")
    assert job.parts_chargeable_total == Decimal("0.00")
    assert job.approved_parts_request_ids == ["PR-2"]


def test_backordered_then_arrived_then_shipped_and_delivered():
    job = paid_job()
    approve(job)
    eta1, eta2 = T0 + timedelta(days=10), T0 + timedelta(days=14)
    job.parts_reserved("PR-1", complete=False)
    job.parts_backordered("PR-1", [("BO-1", eta1), ("BO-2", eta2)])
    assert one(job)["status"] == "backordered" and job.parts_expected_at == eta2
    job.parts_reserved("PR-1", complete=False, backorder_id="BO-2")     # the later one first
    assert job.parts_expected_at == eta1 and one(job)["status"] == "backordered"
    job.parts_reserved("PR-1", complete=True, backorder_id="BO-1")
    assert one(job)["status"] == "reserved" and job.parts_expected_at is None
    job.parts_shipped("PR-1", T0 + timedelta(days=15))
    assert one(job)["status"] == "shipped"
    job.parts_delivered("PR-1", T0 + timedelta(days=15, hours=3))
    assert one(job)["status"] == "delivered" and job.parts_expected_at is None


def test_a_transfer_in_transit_and_the_latest_expected_arrival_over_requests():
    job = paid_job()
    approve(job, "PR-1")
    approve(job, "PR-2", total="48.00", chargeable="48.00")
    job.parts_reserved("PR-1", complete=True)                     # all from the shelf
    assert one(job, "PR-1")["status"] == "reserved" and one(job, "PR-1")["complete"] is True
    tomorrow = T0 + timedelta(days=1)
    job.parts_transfer_started("PR-2", "TR-1", tomorrow)
    assert one(job, "PR-2")["status"] == "in_transit" and job.parts_expected_at == tomorrow
    later = T0 + timedelta(days=7)
    job.parts_backordered("PR-1", [("BO-9", later)])              # cannot make it wait again
    assert job.parts_expected_at == tomorrow
    job.parts_reserved("PR-2", complete=True, transfer_id="TR-1")
    assert job.parts_expected_at is None
    assert job.parts_chargeable_total == Decimal("336.00")


def test_events_out_of_order_end_in_the_same_state():
    eta = T0 + timedelta(days=14)
    in_order, reversed_ = paid_job(), paid_job()
    steps = [lambda j: approve(j),
             lambda j: j.parts_backordered("PR-1", [("BO-1", eta)]),
             lambda j: j.parts_reserved("PR-1", complete=True, backorder_id="BO-1")]
    for s in steps:
        s(in_order)
    for s in reversed(steps):
        s(reversed_)
    assert in_order.parts_requests == reversed_.parts_requests
    assert one(in_order)["status"] == "reserved" and in_order.parts_expected_at is None
    # the reservation seen before the approval: known, waiting for its prices
    early = paid_job()
    early.parts_reserved("PR-1", complete=False)
    assert one(early)["status"] == "reserved" and early.parts_chargeable_total == 0
    assert early.approved_parts_request_ids == []


def test_repeated_events_change_nothing():
    job = paid_job()
    eta = T0 + timedelta(days=1)
    for _ in range(2):
        approve(job)
        job.parts_transfer_started("PR-1", "TR-1", eta)
    assert len(job.parts_requests) == 1 and job.parts_chargeable_total == Decimal("288.00")
    assert job.parts_expected_at == eta
    for _ in range(2):
        job.parts_shipped("PR-1", T0 + timedelta(hours=2))
    job.parts_shipped("PR-1", T0 + timedelta(hours=1))            # an older repeat
    assert one(job)["shipped_at"] == (T0 + timedelta(hours=2)).isoformat()


def test_the_quote_takes_materials_from_the_approved_requests_and_entered_ones_win():
    job = paid_job()
    with pytest.raises(quotes.NoPartsPrices, match="no approved parts request"):
        job.quote_from_parts(Decimal("800"), Decimal("150"))
    approve(job)
    approve(job, "PR-2", total="0.10", chargeable="0.10", lines=[])
    q = job.quote_from_parts(Decimal("800"), Decimal("150.2"), "按备件价格")
    assert (q.materials, q.total) == (Decimal("288.10"), Decimal("1238.30"))
    job.issue_quote(q, T0)
    assert job.quote["materials_source"] == "parts_requests"
    assert job.quote["parts_request_ids"] == ["PR-1", "PR-2"] and job.quote["total"] == "1238.30"
    job.decide_quote(False, T0, "agent")
    job.issue_quote(quotes.Quote(Decimal("500"), Decimal("800"), Decimal("150")), T0)
    assert job.quote["materials_source"] == "entered" and job.quote["parts_request_ids"] == []
    assert job.quote["total"] == "1450.00"
