"""Parts requests end to end against the real broker and database (SQLite and PostgreSQL):
approval (automatic and by the manager), reservation, shipment, delivery, consumption at
completion, return of unused parts; transfer from the nearest branch; backorder with the
supplier's lead time; the ``parts_requested`` event from dispatch; reorder points."""
from datetime import datetime, timedelta

import pytest
from prometheus_client import REGISTRY

from tests.support.waiting import handled

from .support import (QUEUE, SERVICE, call, caught_up, consumed, of, parts_requested, publish,
                      request_parts, set_stock, stock, ticket, wait_handled)

pytestmark = pytest.mark.integration

SH_WAREHOUSE = ("SH", "warehouse")
SH_MANAGER = ("SH", "manager")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_in_warranty_request_is_auto_approved_reserved_shipped_consumed_and_the_rest_returned(
        services, watcher, http):
    services.start("parts")
    sku = "DQ-DL-NXB63"
    before = stock(http, services)[sku]
    view = request_parts(http, services, [(sku, 2)], note="配电柜断路器烧毁，需更换")
    rid, ticket_no = view["request_id"], view["ticket_no"]
    assert view["status"] == "open" and view["approval"]["auto"] is True
    assert view["stock"] == [{"sku": sku, "reserved": 2, "issued": 0, "in_transfer": 0,
                              "backordered": 0, "consumed": 0}]

    [approved] = watcher.of_type("parts_request_approved", request_id=rid)
    assert approved["ticket_no"] == ticket_no and approved["branch"] == "SH"
    assert approved["data"]["auto_approved"] is True and approved["data"]["approved_by"] == "auto"
    assert approved["data"]["lines"] == [{"sku": sku, "name": "配电柜断路器 NXB-63 C32 3P",
                                          "unit": "个", "quantity": 2, "unit_price": "115.00",
                                          "line_total": "230.00"}]
    assert (approved["data"]["total"], approved["data"]["chargeable_total"]) == ("230.00", "0.00")
    [reserved] = watcher.of_type("parts_reserved", request_id=rid)
    assert reserved["data"]["lines"] == [{"sku": sku, "quantity": 2}]
    assert reserved["data"]["complete"] is True and reserved["data"]["warehouse"] == "SH"
    now = stock(http, services)[sku]
    assert (now["on_hand"], now["reserved"], now["available"]) == \
        (before["on_hand"], 2, before["on_hand"] - 2)

    # an engineer may not ship; the warehouse does
    call(http, services, "POST", f"/api/v1/parts-requests/{rid}/ship", expect=403)
    shipped = call(http, services, "POST", f"/api/v1/parts-requests/{rid}/ship",
                   key=SH_WAREHOUSE, expect=200).json()
    assert shipped["status"] == "shipped" and shipped["stock"][0]["issued"] == 2
    [event] = watcher.of_type("parts_shipped", request_id=rid)
    assert event["data"]["lines"] == [{"sku": sku, "quantity": 2}]
    call(http, services, "POST", f"/api/v1/parts-requests/{rid}/ship", key=SH_WAREHOUSE,
         expect=409)                                     # nothing left on the shelf
    call(http, services, "POST", f"/api/v1/parts-requests/{rid}/deliver", expect=200)
    [delivered] = watcher.of_type("parts_delivered", request_id=rid)
    assert delivered["data"]["delivered_by"] == "E-SH-007"

    # the job used one of the two: the request's reserved part is consumed, with its serial
    event = consumed(watcher, services, ticket_no,
                     [{"sku": sku, "quantity": 1, "serial_no": "NXB-2026-0001"}])
    assert event["data"]["lines"] == [{"sku": sku, "quantity": 1, "serial_no": "NXB-2026-0001"}]
    assert event["data"]["shortages"] == []
    view = call(http, services, "GET", f"/api/v1/parts-requests/{rid}", expect=200).json()
    assert view["status"] == "completed"                  # one unused part still out
    assert view["stock"][0] == {"sku": sku, "reserved": 0, "issued": 1, "in_transfer": 0,
                                     "backordered": 0, "consumed": 1}
    now = stock(http, services)[sku]
    assert (now["on_hand"], now["reserved"], now["issued"]) == (before["on_hand"] - 1, 1, 1)

    closed = call(http, services, "POST", f"/api/v1/parts-requests/{rid}/return-unused",
                  key=SH_WAREHOUSE, expect=200).json()
    assert closed["status"] == "closed"
    now = stock(http, services)[sku]
    assert (now["on_hand"], now["reserved"], now["available"]) == \
        (before["on_hand"] - 1, 0, before["on_hand"] - 1)
    ledger = call(http, services, "GET", "/api/v1/ledger",
                  params={"branch": "SH", "request_id": rid}, expect=200).json()["entries"]
    assert [(e["kind"], e["quantity"], e["reserved"], e["issued"]) for e in ledger] == [
        ("reserve", 0, 2, 0), ("ship", 0, 0, 2), ("consume", -1, -1, -1), ("release", 0, -1, -1)]
    assert ledger[2]["serial_no"] == "NXB-2026-0001" and ledger[2]["ticket_no"] == ticket_no


def test_paid_request_waits_for_the_branch_manager_who_approves_or_rejects(services, watcher, http):
    services.start("parts")
    sku = "DQ-JC-CJX2"
    view = request_parts(http, services, [(sku, 3)], in_warranty=False)
    rid = view["request_id"]
    assert view["status"] == "pending_approval" and view["stock"][0]["reserved"] == 0
    assert stock(http, services)[sku]["reserved"] == 0

    path = f"/api/v1/parts-requests/{rid}/approve"
    call(http, services, "POST", path, expect=403)                       # engineer
    call(http, services, "POST", path, key=("HZ", "manager"), expect=404)  # other branch
    approved = call(http, services, "POST", path, key=SH_MANAGER, json={"note": "客户已同意报价"},
                    expect=200).json()
    assert approved["status"] == "open" and approved["approval"]["auto"] is False
    [event] = watcher.of_type("parts_request_approved", request_id=rid)
    assert event["data"]["in_warranty"] is False
    assert event["data"]["total"] == event["data"]["chargeable_total"] == "276.00"
    assert event["data"]["approved_by"] == "SH-manager"     # the key's subject
    watcher.of_type("parts_reserved", request_id=rid)
    call(http, services, "POST", path, key=SH_MANAGER, expect=409)       # approved already

    other = request_parts(http, services, [(sku, 1)], in_warranty=False)["request_id"]
    call(http, services, "POST", f"/api/v1/parts-requests/{other}/reject", key=SH_MANAGER,
         json={"reason": ""}, expect=422)
    rejected = call(http, services, "POST", f"/api/v1/parts-requests/{other}/reject",
                    key=SH_MANAGER, json={"reason": "可用库存旧件修复"}, expect=200).json()
    assert rejected["status"] == "rejected"
    [event] = watcher.of_type("parts_request_rejected", request_id=other)
    assert event["data"]["reason"] == "可用库存旧件修复"
    call(http, services, "POST", f"/api/v1/parts-requests/{other}/approve", key=SH_MANAGER,
         expect=409)

    listed = call(http, services, "GET", "/api/v1/parts-requests",
                  params={"status": "rejected"}, expect=200).json()["requests"]
    assert [r["request_id"] for r in listed] == [other]
    assert call(http, services, "GET", "/api/v1/parts-requests", key=("HZ", "engineer", "E-HZ-1"),
                expect=200).json()["requests"] == []


def test_the_auto_approval_threshold_is_configurable(services, watcher, http):
    services.start("parts", PARTS_AUTO_APPROVE_LIMIT="100")
    cheap = request_parts(http, services, [("GJ-LS-M20", 10)])      # cost 68.00
    assert cheap["status"] == "open" and cheap["approval"]["auto"]
    dear = request_parts(http, services, [("DQ-DL-NXB63", 2)])      # cost 136.00, in warranty
    assert dear["status"] == "pending_approval"


def test_requests_are_validated_and_branch_scoped(services, http):
    services.start("parts")
    r = request_parts(http, services, [("NO-SUCH", 1), ("GJ-LS-M20", 0)], expect=422)
    assert {e["field"] for e in r["errors"]} == {"lines.1.quantity"}
    r = request_parts(http, services, [("NO-SUCH", 1)], expect=422)
    assert r["errors"] == [{"field": "lines.0.sku", "message": "unknown SKU 'NO-SUCH'"}]
    r = call(http, services, "POST", "/api/v1/parts-requests",
             json={"ticket_no": ticket(), "in_warranty": True,
                   "lines": [{"sku": "GJ-LS-M20", "quantity": 1}]}, expect=422).json()
    assert r["errors"][0]["field"] == "in_warranty"     # the platform decides, not the client
    request_parts(http, services, [("GJ-LS-M20", 1)], key=("SH", "agent"), expect=403)
    request_parts(http, services, [("GJ-LS-M20", 1)], key=("HQ", "dispatcher"), expect=422)
    request_parts(http, services, [("GJ-LS-M20", 1)], key=("HZ", "dispatcher"), branch="SH",
                  expect=403)
    rid = request_parts(http, services, [("GJ-LS-M20", 1)], key=("HQ", "dispatcher"),
                        branch="BJ")["request_id"]
    call(http, services, "GET", f"/api/v1/parts-requests/{rid}", expect=404)   # SH key
    assert call(http, services, "GET", f"/api/v1/parts-requests/{rid}",
                key=("BJ", "engineer", "E-BJ-1"), expect=200).json()["branch"] == "BJ"


def test_a_job_never_takes_parts_reserved_for_another_ticket(services, watcher, http):
    services.start("parts")
    sku = "JX-ZC-6308"
    set_stock(http, services, sku, {"SH": 2, "HZ": 0, "BJ": 0, "GZ": 0})
    request_parts(http, services, [(sku, 2)])
    event = consumed(watcher, services, ticket(), [{"sku": sku, "quantity": 1}])
    assert event["data"]["lines"] == [] and event["data"]["shortages"] == [
        {"sku": sku, "quantity": 1, "serial_no": None}]
    assert stock(http, services)[sku]["reserved"] == 2


def test_a_job_without_shipment_releases_the_reserved_parts_it_did_not_use(services, watcher, http):
    services.start("parts")
    sku = "WM-CB-0476"
    before = stock(http, services)[sku]["on_hand"]
    view = request_parts(http, services, [(sku, 20), ("GJ-LS-M20", 4)])
    event = consumed(watcher, services, view["ticket_no"], [{"sku": sku, "quantity": 25}])
    assert event["data"]["lines"] == [{"sku": sku, "quantity": 25, "serial_no": None}]
    after = call(http, services, "GET", f"/api/v1/parts-requests/{view['request_id']}",
                 expect=200).json()
    assert after["status"] == "closed"
    assert {s["sku"]: (s["reserved"], s["consumed"]) for s in after["stock"]} == {
        sku: (0, 20), "GJ-LS-M20": (0, 0)}          # 5 more came from free stock
    levels = stock(http, services)
    assert (levels[sku]["on_hand"], levels[sku]["reserved"]) == (before - 25, 0)
    assert levels["GJ-LS-M20"]["reserved"] == 0


def test_cancel_releases_the_reservation_and_the_backorders(services, watcher, http):
    services.start("parts")
    sku = "JX-KY-LX37"
    set_stock(http, services, sku, {"SH": 1, "HZ": 0, "BJ": 0, "GZ": 0})
    view = request_parts(http, services, [(sku, 3)])
    assert [b["quantity"] for b in view["backorders"]] == [2]
    rid = view["request_id"]
    call(http, services, "POST", f"/api/v1/parts-requests/{rid}/cancel",
         json={"reason": "客户取消维修"}, expect=200)
    assert stock(http, services)[sku]["reserved"] == 0
    view = call(http, services, "GET", f"/api/v1/parts-requests/{rid}", expect=200).json()
    assert view["status"] == "cancelled" and view["backorders"][0]["status"] == "cancelled"
    call(http, services, "POST", f"/api/v1/backorders/{view['backorders'][0]['backorder_id']}/receive",
         key=SH_WAREHOUSE, expect=409)


def test_short_branch_gets_a_transfer_from_the_nearest_branch_that_has_it(services, watcher, http):
    services.start("parts")
    sku = "JX-ZC-6308"
    # SH has 1; its nearest neighbour HZ has none; BJ (next) has 5; GZ (farther) has 9
    set_stock(http, services, sku, {"SH": 1, "HZ": 0, "BJ": 5, "GZ": 9})
    view = request_parts(http, services, [(sku, 4)])
    rid = view["request_id"]
    assert view["stock"][0]["reserved"] == 1 and view["stock"][0]["in_transfer"] == 3

    [partial] = watcher.of_type("parts_reserved", request_id=rid)
    assert partial["data"]["lines"] == [{"sku": sku, "quantity": 1}]
    assert partial["data"]["complete"] is False
    [started] = watcher.of_type("parts_transfer_started", request_id=rid)
    data = started["data"]
    assert (data["from_warehouse"], data["to_warehouse"]) == ("BJ", "SH")
    assert data["lines"] == [{"sku": sku, "quantity": 3}]
    assert at(data["expected_at"]) - at(started["occurred_at"]) < timedelta(days=1, minutes=1)
    assert not of(watcher, "parts_backordered", request_id=rid)
    assert stock(http, services, "BJ")[sku]["on_hand"] == 2
    assert stock(http, services, "GZ")[sku]["on_hand"] == 9
    bj = call(http, services, "GET", "/api/v1/ledger", key=("BJ", "warehouse"),
              params={"sku": sku}, expect=200).json()["entries"][-1]
    assert (bj["kind"], bj["quantity"], bj["ref"]) == ("transfer_out", -3, data["transfer_id"])

    path = f"/api/v1/transfers/{data['transfer_id']}/receive"
    call(http, services, "POST", path, key=("HZ", "warehouse"), expect=404)
    received = call(http, services, "POST", path, key=SH_WAREHOUSE, expect=200).json()
    assert received["status"] == "received"
    [arrived] = watcher.of_type("parts_reserved", request_id=rid, transfer_id=data["transfer_id"])
    assert arrived["data"]["lines"] == [{"sku": sku, "quantity": 3}]
    assert arrived["data"]["complete"] is True
    sh = stock(http, services)[sku]
    assert (sh["on_hand"], sh["reserved"], sh["available"]) == (4, 4, 0)
    call(http, services, "POST", path, key=SH_WAREHOUSE, expect=409)
    transfers = call(http, services, "GET", "/api/v1/transfers", key=("BJ", "warehouse"),
                     expect=200).json()["transfers"]
    assert [(t["transfer_id"], t["status"]) for t in transfers] == [(data["transfer_id"], "received")]


def backorders_total(branch="SH") -> float:
    return REGISTRY.get_sample_value("aftersales_parts_backorders_total", {"branch": branch}) or 0.0


def test_nobody_has_it_backorder_with_the_suppliers_lead_time(services, watcher, http):
    services.start("parts")
    sku = "WM-FS-SBS4"                                   # lead time 14 days
    set_stock(http, services, sku, {b: 0 for b in ("SH", "HZ", "BJ", "GZ")})
    counted = backorders_total()
    view = request_parts(http, services, [(sku, 3)])
    rid = view["request_id"]
    assert view["stock"][0]["backordered"] == 3

    [event] = watcher.of_type("parts_backordered", request_id=rid)
    data = event["data"]
    [line] = data["lines"]
    assert (line["sku"], line["quantity"], line["lead_time_days"]) == (sku, 3, 14)
    lead = at(data["expected_at"]) - at(event["occurred_at"])
    assert timedelta(days=14) - timedelta(minutes=1) < lead < timedelta(days=14, minutes=1)
    assert data["expected_at"] == line["expected_at"] and data["warehouse"] == "SH"
    assert not of(watcher, "parts_reserved", request_id=rid)
    assert not of(watcher, "parts_transfer_started", request_id=rid)
    assert backorders_total() == counted + 1
    metrics = call(http, services, "GET", "/metrics", expect=200).text
    assert f'aftersales_parts_backorders_total{{branch="SH"}} {counted + 1}' in metrics
    assert 'aftersales_parts_backorders_total{branch="GZ"}' in metrics    # zero, from the start

    listed = call(http, services, "GET", "/api/v1/backorders", key=SH_WAREHOUSE,
                  params={"status": "open"}, expect=200).json()["backorders"]
    assert [b["backorder_id"] for b in listed] == [line["backorder_id"]]
    call(http, services, "POST", f"/api/v1/backorders/{line['backorder_id']}/receive",
         key=SH_WAREHOUSE, expect=200)
    [arrived] = watcher.of_type("parts_reserved", request_id=rid)
    assert arrived["data"]["backorder_id"] == line["backorder_id"]
    assert arrived["data"]["complete"] is True
    sh = stock(http, services)[sku]
    assert (sh["on_hand"], sh["reserved"]) == (3, 3)


def test_parts_requested_from_dispatch_once_per_event_and_unknown_parts_rejected(
        services, watcher, http):
    services.start("parts")
    start = handled(SERVICE, QUEUE)
    env = parts_requested(ticket(), [("GJ-LT-C160", 12), ("GJ-LS-M20", 24)])
    publish(services, env)
    publish(services, env)                               # redelivered
    wait_handled(start + 2)
    [approved] = watcher.of_type("parts_request_approved", ticket_no=env.ticket_no)
    assert approved["data"]["total"] == "960.00" and approved["data"]["auto_approved"] is True
    [reserved] = watcher.of_type("parts_reserved", ticket_no=env.ticket_no)
    assert reserved["data"]["complete"] is True

    bad = parts_requested(ticket(), [("GJ-LT-C160", 1), ("XX-UNKNOWN", 1)])
    publish(services, bad)
    [rejected] = watcher.of_type("parts_request_rejected", ticket_no=bad.ticket_no)
    assert "XX-UNKNOWN" in rejected["data"]["reason"] and rejected["data"]["rejected_by"] == "parts"

    caught_up(watcher, services)
    assert len(of(watcher, "parts_request_approved", ticket_no=env.ticket_no)) == 1
    listed = call(http, services, "GET", "/api/v1/parts-requests",
                  params={"ticket_no": env.ticket_no}, expect=200).json()["requests"]
    assert len(listed) == 1 and listed[0]["status"] == "open"
    view = call(http, services, "GET", f"/api/v1/parts-requests/{listed[0]['request_id']}",
                expect=200).json()
    assert view["source"] == "dispatch" and view["note"] == "现场急需"


def test_reorder_needed_once_per_crossing(services, watcher, http):
    services.start("parts")
    sku = "DQ-JC-CJX2"                                   # SH holds 30
    r = call(http, services, "PUT", "/api/v1/reorder-points", key=SH_WAREHOUSE,
             json={"sku": sku, "reorder_point": 27}, expect=200).json()
    assert (r["reorder_point"], r["below"], r["reorder_needed"]) == (27, False, False)
    call(http, services, "PUT", "/api/v1/reorder-points", key=("SH", "engineer", "E"),
         json={"sku": sku, "reorder_point": 1}, expect=403)

    consumed(watcher, services, ticket(), [{"sku": sku, "quantity": 3}])     # 27: crossing
    [first] = watcher.of_type("reorder_needed", sku=sku)
    assert first["branch"] == "SH" and first["ticket_no"] is None
    assert {k: first["data"][k] for k in ("warehouse", "available", "reorder_point",
                                          "suggested_quantity", "lead_time_days")} == {
        "warehouse": "SH", "available": 27, "reorder_point": 27, "suggested_quantity": 27,
        "lead_time_days": 7}
    consumed(watcher, services, ticket(), [{"sku": sku, "quantity": 1}])     # 26: still below
    call(http, services, "POST", "/api/v1/stock/movements", key=SH_WAREHOUSE,
         json={"kind": "receive", "sku": sku, "quantity": 10, "note": "供应商到货"}, expect=201)
    consumed(watcher, services, ticket(), [{"sku": sku, "quantity": 9}])     # 36 → 27: again
    watcher.of_type("reorder_needed", sku=sku, count=2)
    caught_up(watcher, services)
    assert [e["data"]["available"] for e in of(watcher, "reorder_needed", sku=sku)] == [27, 27]
    assert stock(http, services)[sku]["reorder_needed"] is True


def test_warehouse_movements_keep_reservations_whole(services, watcher, http):
    services.start("parts")
    sku = "JX-KY-LX37"
    set_stock(http, services, sku, {"SH": 3})
    request_parts(http, services, [(sku, 2)])
    path = "/api/v1/stock/movements"
    r = call(http, services, "POST", path, key=SH_WAREHOUSE,
             json={"kind": "scrap", "sku": sku, "quantity": 2, "note": "受潮"}, expect=409)
    assert "available 1" in r.json()["error"]
    call(http, services, "POST", path, key=SH_WAREHOUSE,
         json={"kind": "stocktake", "sku": sku, "counted": 1}, expect=409)
    r = call(http, services, "POST", path, key=SH_WAREHOUSE,
             json={"kind": "scrap", "sku": sku, "quantity": 1}, expect=201).json()
    assert r["after"] == {"on_hand": 2, "reserved": 2, "issued": 0, "available": 0}
    call(http, services, "POST", path, key=SH_WAREHOUSE,
         json={"kind": "receive", "sku": sku}, expect=422)
    call(http, services, "POST", path, key=SH_WAREHOUSE,
         json={"kind": "teleport", "sku": sku, "quantity": 1}, expect=422)
    call(http, services, "POST", path, key=("SH", "engineer", "E"),
         json={"kind": "receive", "sku": sku, "quantity": 1}, expect=403)
    call(http, services, "POST", path, key=("HZ", "warehouse"),
         json={"branch": "SH", "kind": "receive", "sku": sku, "quantity": 1}, expect=403)
