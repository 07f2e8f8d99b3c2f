"""Dispatch and parts together against the real broker and database (SQLite and PostgreSQL):
an engineer requests parts through dispatch, the parts manager approves them, dispatch records
the prices and prices the quote's materials from them; a request nobody has in stock is
backordered and dispatch shows when the parts are expected."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from aftersales.outbox import make_envelope
from services.dispatch.tests.test_dispatch_integration import QUEUE, publish, ticket_opened
from tests.support.broker import publish_event, publish_raw
from tests.support.fixtures import auth
from tests.support.waiting import handled, wait_handled, wait_until

pytestmark = pytest.mark.integration

PAID = {"status": "expired", "ends_on": "2025-06-18", "component_category": "main_structure"}
MANAGER = auth("SH", "manager")
DISPATCHER = auth("SH", "dispatcher")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_parts_prices_go_into_the_quote_and_a_backorder_shows_when_parts_come(
        services, watcher, http):
    services.start("parts")
    services.start("dispatch")
    ticket_no = f"SH-{datetime.now(timezone.utc):%Y%m%d}-9101"
    publish(services.broker_uri, ticket_opened(ticket_no, warranty=PAID))
    [assigned] = watcher.of_type("engineer_assigned", ticket_no=ticket_no)
    me = auth("SH", "engineer", assigned["data"]["engineer_id"])

    def step(action, body=None, expect=200):
        r = http.post(services.url("dispatch", f"/api/v1/jobs/{ticket_no}/{action}"),
                      json=body or {}, headers=me)
        assert r.status_code == expect, f"{action}: {r.status_code} {r.text}"
        return r.json()

    def job():
        r = http.get(services.url("dispatch", f"/api/v1/jobs/{ticket_no}"), headers=DISPATCHER)
        assert r.status_code == 200, r.text
        return r.json()

    def parts_request(lines) -> str:
        """Ask for parts through dispatch; the id parts gives the request (pending approval:
        out of warranty, no auto-approval)."""
        known = {r["request_id"] for r in pending()}
        step("parts-requests", {"lines": [{"sku": s, "quantity": q} for s, q in lines],
                                "note": "现场更换锈蚀檩条"})
        [new] = wait_until(lambda: [r for r in pending() if r["request_id"] not in known],
                           what="parts to create the request")
        return new["request_id"]

    def pending():
        r = http.get(services.url("parts", "/api/v1/parts-requests"), headers=MANAGER,
                     params={"ticket_no": ticket_no, "status": "pending_approval"})
        assert r.status_code == 200, r.text
        return r.json()["requests"]

    def approve(rid):
        r = http.post(services.url("parts", f"/api/v1/parts-requests/{rid}/approve"),
                      json={"note": "同意"}, headers=MANAGER)
        assert r.status_code == 200, r.text

    def recorded(rid, status):
        """Dispatch's view once it holds the request, approved, in ``status`` (the events of
        one approval may be handled in any order: the reservation can come first)."""
        def probe():
            view = job()
            mine = [r for r in view["parts_requests"] if r["request_id"] == rid]
            return view if mine and mine[0]["status"] == status and mine[0]["approved_at"] \
                else None
        return wait_until(probe, what=f"dispatch to record {rid} as {status}")

    step("accept")
    step("check-in")
    step("diagnosis", {"cause": "environment", "responsibility": "none",
                       "findings": "檩条锈蚀，超出质保期"})
    assert job()["chargeable"] is True
    r = step("quote", {"labour": "800", "travel": "150.50"}, expect=422)   # nothing to price yet
    assert r["errors"][0]["field"] == "materials"

    # 1. parts the branch has: approved by the manager, reserved from the shelf
    rid = parts_request([("GJ-LT-C160", 3), ("GJ-LS-M20", 10)])
    approve(rid)
    [approved] = watcher.of_type("parts_request_approved", request_id=rid)
    assert approved["data"]["auto_approved"] is False
    assert approved["data"]["chargeable_total"] == "288.00"          # 3 × 56.00 + 10 × 12.00
    view = recorded(rid, "reserved")
    [req] = view["parts_requests"]
    assert (req["total"], req["chargeable_total"], req["complete"]) == ("288.00", "288.00", True)
    assert [(ln["sku"], ln["name"], ln["unit_price"]) for ln in req["lines"]] == [
        ("GJ-LT-C160", "屋面檩条 C型钢 C160×60×20×2.5", "56.00"),
        ("GJ-LS-M20", "高强度螺栓 M20×80 10.9级", "12.00")]
    assert view["parts_chargeable_total"] == "288.00" and view["parts_expected_at"] is None

    # 2. more than every branch has (4 × 20): the rest is transferred and backordered
    big = parts_request([("JX-KY-LX37", 81)])
    approve(big)
    [backordered] = watcher.of_type("parts_backordered", request_id=big)
    view = recorded(big, "backordered")
    expected = at(backordered["data"]["expected_at"])                       # 21 days' lead time
    assert at(view["parts_expected_at"]) == expected
    assert view["parts_chargeable_total"] == "26208.00"                      # + 81 × 320.00
    row = next(r for r in http.get(services.url("dispatch", "/api/v1/board"),
                                   headers=DISPATCHER).json()["jobs"] if r["ticket_no"] == ticket_no)
    assert at(row["parts_expected_at"]) == expected

    # the quote without materials: the parts' chargeable total of both approved requests
    quoted = step("quote", {"labour": "800", "travel": "150.50", "note": "按备件价格报价"})
    assert quoted["quote"]["materials_source"] == "parts_requests"
    assert quoted["quote"]["parts_request_ids"] == [rid, big]
    [issued] = watcher.of_type("quote_issued", ticket_no=ticket_no)
    data = issued["data"]
    assert (data["materials"], data["labour"], data["travel"]) == ("26208.00", "800.00", "150.50")
    assert Decimal(data["total"]) == Decimal("26208.00") + Decimal("800") + Decimal("150.50")
    assert data["materials_source"] == "parts_requests" and data["parts_request_ids"] == [rid, big]

    # rejected by the customer: quoted again with materials entered by hand, which win
    http.post(services.url("dispatch", f"/api/v1/jobs/{ticket_no}/quote/decision"),
              json={"approved": False}, headers=auth("SH", "agent")).raise_for_status()
    again = step("quote", {"materials": "20000", "labour": "800", "travel": "150.50"})
    assert again["quote"]["materials_source"] == "entered" and again["quote"]["total"] == "20950.50"

    # the approval delivered again (same event id) and an event for a ticket with no job: both
    # acknowledged, nothing changes
    before = handled("dispatch", QUEUE)
    publish_raw(services.broker_uri, "parts.events", "parts_request_approved",
                json.dumps(approved, ensure_ascii=False).encode("utf-8"))
    publish_event(services.broker_uri, make_envelope("parts", "parts_delivered", {
        "request_id": "PR-NOJOB", "ticket_no": "SH-20261123-9999", "delivered_by": "SH-E001",
        "delivered_at": datetime.now(timezone.utc).isoformat()},
        ticket_no="SH-20261123-9999", branch="SH"))
    wait_handled("dispatch", QUEUE, before + 2)
    view = job()
    assert view["parts_chargeable_total"] == "26208.00" and len(view["parts_requests"]) == 2
