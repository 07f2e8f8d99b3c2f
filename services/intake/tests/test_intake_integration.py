"""Intake against the real broker and database (SQLite and PostgreSQL)."""
import json

import pytest

from tests.support.broker import publish_raw, publish_request, wait_parked
from tests.support.data import repair_request
from tests.support.fixtures import auth


pytestmark = pytest.mark.integration


def test_phone_center_event_opens_a_ticket_with_chinese_text_intact(services, watcher, http):
    services.start("intake")
    body = repair_request()
    publish_request(services.broker_uri, body)

    [opened] = watcher.of_type("ticket_opened", request_id=body["request_id"])
    assert opened["version"] == 1 and opened["branch"] == "SH"
    ticket_no = opened["ticket_no"]
    assert ticket_no.startswith("SH-20261122-")
    assert opened["data"]["priority"] == "B"          # 局部 / 漏水 → B
    assert opened["data"]["warranty"]["status"] == "in_warranty"
    assert opened["data"]["warranty"]["component_category"] == "main_structure"
    assert opened["data"]["customer"]["contact_name"] == "张伟"

    r = http.get(services.url("intake", f"/api/v1/tickets/{ticket_no}"), headers=auth("SH"))
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["site"]["address"] == "上海市宝山区富锦路885号3号厂房"
    assert view["fault"]["description"] == body["fault"]["description"]
    assert [e["type"] for e in view["timeline"]] == ["ticket_opened"]


def test_same_request_twice_opens_one_ticket_and_answers_the_same_number(services, watcher):
    services.start("intake")
    body = repair_request()
    publish_request(services.broker_uri, body)
    publish_request(services.broker_uri, body)
    answers = watcher.of_type("ticket_opened", count=2, request_id=body["request_id"])
    assert answers[0]["ticket_no"] == answers[1]["ticket_no"]
    assert [a["data"]["duplicate"] for a in answers] == [False, True]


def test_invalid_request_is_rejected_naming_fields_and_parked(services, watcher):
    from aftersales.messaging.parking import ParkingLot
    services.start("intake")
    body = repair_request(channel="fax", received_at="2026-11-22T09:30:00")
    body["customer"]["phone"] = "call me"
    publish_request(services.broker_uri, body)
    [rej] = watcher.of_type("request_rejected", request_id=body["request_id"])
    fields = {e["field"] for e in rej["data"]["errors"]}
    assert fields == {"channel", "received_at", "customer.phone"}
    lot = ParkingLot(services.broker_uri, "intake")
    parked = lot.list()
    assert len(parked) == 1 and "customer.phone" in parked[0].reason
    assert json.loads(parked[0].body)["request_id"] == body["request_id"]


def test_unreadable_message_is_parked_and_can_be_replayed(services, watcher):
    from aftersales.messaging.parking import ParkingLot
    services.start("intake")
    publish_raw(services.broker_uri, "phone_center.events", "repair_requested", b"\xff\xfe not json")
    lot = ParkingLot(services.broker_uri, "intake")
    parked = wait_parked(lot, 1)
    assert "not UTF-8" in parked[0].reason and parked[0].original_queue == "aftersales.intake.phone_center"
    # an operator fixes nothing and replays: it is parked again, still with its reason, not lost
    assert lot.replay(parked[0].parked_id) == [parked[0].parked_id]
    again = wait_parked(lot, 1, exclude={parked[0].parked_id})
    assert "not UTF-8" in again[0].reason
    # UTF-8 but not JSON, JSON but not an object, and a body over the limit: parked, each
    # with its own reason
    seen = {parked[0].parked_id, again[0].parked_id}
    for body, reason in ((b"{\xe6\x8a\xa5\xe4\xbf\xae not json", "not JSON"),
                         (b'["a list"]', "not a JSON object"),
                         (b'{"x": "' + b"y" * (256 * 1024) + b'"}', "the limit is 262144")):
        publish_raw(services.broker_uri, "phone_center.events", "repair_requested", body)
        [new] = wait_parked(lot, 1, exclude=seen)
        assert reason in new.reason, new.reason
        seen.add(new.parked_id)


def test_http_door_follows_the_same_rules_as_the_bus(services, watcher, http):
    services.start("intake")
    url = services.url("intake", "/api/v1/tickets")
    body = repair_request(branch="BJ", asset={"serial_no": "BJ-GJ-2018-0003"},
                          fault={"description": "仓库钢结构立柱变形，有人身安全风险"})
    r = http.post(url, json=body, headers=auth("BJ", "agent"))
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["outcome"] == "opened" and doc["priority"] == "A"
    [opened] = watcher.of_type("ticket_opened", request_id=body["request_id"])
    assert opened["ticket_no"] == doc["ticket_no"]

    again = http.post(url, json=body, headers=auth("BJ", "agent"))
    assert again.status_code == 200 and again.json() == {**doc, "outcome": "duplicate"}

    bad = dict(body, request_id="other", branch="BJ", channel="telex")
    bad["customer"] = dict(body["customer"], phone="")
    r = http.post(url, json=bad, headers=auth("BJ", "agent"))
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"channel", "customer.phone"}

    unknown_branch = dict(body, request_id="x2", branch="XX")
    r = http.post(url, json=unknown_branch, headers=auth("HQ", "agent"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "branch"

    r = http.post(url, data=b"{not json", headers=auth("BJ", "agent"))
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "(body)"


def test_http_auth_and_branch_scoping(services, watcher, http):
    services.start("intake")
    url = services.url("intake", "/api/v1/tickets")
    body = repair_request()
    assert http.post(url, json=body).status_code == 401
    assert http.post(url, json=body, headers={"Authorization": "Bearer ak1.bad.key"}).status_code == 401
    r = http.post(url, json=body, headers=auth("BJ", "agent"))       # SH request, BJ key
    assert r.status_code == 403 and "branch BJ" in r.json()["error"]
    assert http.post(url, json=body, headers=auth("SH", "engineer", "SH-E001")).status_code == 403
    ticket_no = http.post(url, json=body, headers=auth("SH", "agent")).json()["ticket_no"]
    get = services.url("intake", f"/api/v1/tickets/{ticket_no}")
    assert http.get(get, headers=auth("SH")).status_code == 200
    assert http.get(get, headers=auth("HQ", "manager")).status_code == 200
    assert http.get(get, headers=auth("BJ")).status_code == 404      # invisible to other branches
    assert http.get(services.url("intake", "/api/v1/tickets/SH-20000101-0001"),
                    headers=auth("SH")).status_code == 404


def test_health_and_metrics(services, watcher, http):
    services.start("intake")
    body = repair_request()
    publish_request(services.broker_uri, body)
    watcher.of_type("ticket_opened", request_id=body["request_id"])
    h = http.get(services.url("intake", "/health"))
    assert h.status_code == 200
    checks = h.json()["checks"]
    assert checks["database"]["ok"] and checks["broker"]["ok"]
    assert checks["broker"]["parked_messages"] == 0
    m = http.get(services.url("intake", "/metrics")).text
    assert 'aftersales_requests_total{branch="SH",channel="phone",outcome="opened"}' in m
    assert 'aftersales_requests_total{branch="GZ",channel="wechat",outcome="rejected"} 0.0' in m
    assert 'aftersales_tickets_open{branch="SH",priority="B",state="open"} 1.0' in m
    assert 'aftersales_outbox_pending{service="intake"}' in m
    assert 'aftersales_parked_messages{service="intake"} 0.0' in m
    assert "张伟" not in m and body["customer"]["phone"] not in m
