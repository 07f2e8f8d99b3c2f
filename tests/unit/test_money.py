"""Money is an exact Decimal with two places, serialised as a string, in every service."""
from decimal import Decimal

import pytest

from aftersales.money import money, money_text
from services.dispatch.domain import model
from services.parts.domain import model as parts_model


def test_amounts_are_exact_decimals_with_two_places():
    assert money("1200.5") == Decimal("1200.50") and str(money(1200.5)) == "1200.50"
    assert money(0.1) + money(0.2) == Decimal("0.30")              # a float by its shortest repr
    assert money("2.345") == Decimal("2.35")                       # half up (四舍五入)
    assert money_text(800) == "800.00" and money(Decimal("7")) == Decimal("7.00")


@pytest.mark.parametrize("bad", ["abc", "", None, float("nan"), "Infinity", True])
def test_what_is_not_an_amount_is_refused(bad):
    with pytest.raises(ValueError, match="not an amount"):
        money(bad)


def test_a_quote_serialises_its_amounts_as_strings_with_two_places():
    q = model.Quote(Decimal("1200.5"), 800, 150.2)
    d = q.as_dict()
    assert (d["materials"], d["labour"], d["travel"], d["total"]) == (
        "1200.50", "800.00", "150.20", "2150.70")
    assert q.total == Decimal("2150.70")


def test_dispatch_and_parts_share_the_one_money_helper():
    assert model.money is money and parts_model.money is money


def test_every_amount_in_an_event_is_published_as_a_string_with_two_places():
    from aftersales.outbox import make_envelope
    env = make_envelope("dispatch", "quote_decided", {
        "ticket_no": "SH-20261122-0001", "approved": True, "total": 2150.5,
        "decided_at": "2026-11-22T10:00:00+08:00", "recorded_by": "agent-1"},
        ticket_no="SH-20261122-0001", branch="SH")
    assert env.to_json_dict()["data"]["total"] == "2150.50"
    issued = make_envelope("dispatch", "quote_issued", {
        "ticket_no": "SH-20261122-0001", "materials": "1200.5", "labour": 800, "travel": "150",
        "total": "2150.5", "issued_at": "2026-11-22T10:00:00+08:00"},
        ticket_no="SH-20261122-0001", branch="SH").to_json_dict()["data"]
    assert [issued[k] for k in ("materials", "labour", "travel", "total")] == [
        "1200.50", "800.00", "150.00", "2150.50"]
