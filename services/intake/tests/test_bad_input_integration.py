"""The poison bodies of issue #11 against intake on the real broker and database (SQLite and
PostgreSQL): on the bus each is parked with its reason and, when its request_id/source can be
read, answered with request_rejected naming the field; over HTTP each is a 400/422, never a 500;
the consumer keeps consuming."""
import json

import pytest

from aftersales.messaging.parking import ParkingLot
from tests.support.broker import publish_raw, publish_request, wait_parked
from tests.support.data import repair_request
from tests.support.fixtures import auth

pytestmark = pytest.mark.integration

DEEP = "[" * 20_000 + "]" * 20_000


def _raw(body: dict) -> bytes:
    """JSON as a phone center might send it: lone surrogates as \\u escapes."""
    return json.dumps(body, ensure_ascii=True).encode("ascii")


def _poison():
    """(name, body bytes, request_id or None when unreadable, the field named)"""
    deep = repair_request(request_id="P-deep")
    text = _raw(deep).decode().replace(
        '"fault": {', f'"fault": {{"extra": {DEEP}, ', 1)
    surrogate = repair_request(request_id="P-surrogate")
    surrogate["customer"]["name"] = "上海\ud800钢构"
    bad_id = repair_request(request_id="P-\udc00")
    return [
        ("branch object", _raw(repair_request(request_id="P-branch-obj", branch={"code": "SH"})),
         "P-branch-obj", "branch"),
        ("branch list", _raw(repair_request(request_id="P-branch-list", branch=["SH"])),
         "P-branch-list", "branch"),
        ("nested 20,000 deep", text.encode("ascii"), "P-deep", "fault.extra.0.0"),
        ("lone surrogate", _raw(surrogate), "P-surrogate", "customer.name"),
        ("year 1", _raw(repair_request(request_id="P-year1",
                                       received_at="0001-01-01T00:00:00-08:00")),
         "P-year1", "received_at"),
        ("unreadable request_id", _raw(bad_id), None, "request_id"),
    ]


def test_poison_bodies_on_the_bus_are_parked_and_answered_naming_the_field(services, watcher):
    services.start("intake")
    lot = ParkingLot(services.broker_uri, "intake")
    publish_raw(services.broker_uri, "phone_center.events", "repair_requested", b"[" * 100_000)
    [parked] = wait_parked(lot, 1)
    assert "not JSON" in parked.reason and "nested deeper than 32" in parked.reason
    cases = _poison()
    for _, body, _, _ in cases:
        publish_raw(services.broker_uri, "phone_center.events", "repair_requested", body)
    answers = watcher.of_type("request_rejected", count=len(cases))
    by_id = {a["data"]["request_id"]: a["data"] for a in answers}
    for name, _, request_id, field in cases:
        errors = by_id[request_id]["errors"]
        assert any(e["field"].startswith(field) for e in errors), (name, errors)
        assert by_id[request_id]["source"] == "pc-shanghai", name
    # every one of them is parked with its reason; no phone number reaches a reason
    items = wait_parked(lot, len(cases) + 1)
    assert all("13812345678" not in p.reason for p in items)
    # nothing was opened, and the consumer still works
    good = repair_request()
    publish_request(services.broker_uri, good)
    [opened] = watcher.of_type("ticket_opened")
    assert opened["data"]["request_id"] == good["request_id"]
    assert opened["ticket_no"].startswith("SH-20261122-")


def test_poison_bodies_over_http_are_400_or_422_naming_the_field(services, http):
    services.start("intake")
    url = services.url("intake", "/api/v1/tickets")
    headers = {**auth("HQ", "agent"), "Content-Type": "application/json"}
    r = http.post(url, data=b"[" * 100_000, headers=headers)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "(body)", r.text
    for name, body, _, field in _poison():
        r = http.post(url, data=body, headers=headers)
        assert r.status_code == 422, (name, r.status_code, r.text)
        assert any(e["field"].startswith(field) for e in r.json()["errors"]), (name, r.text)
    good = repair_request()
    r = http.post(url, json=good, headers=headers)
    assert r.status_code == 201, r.text
