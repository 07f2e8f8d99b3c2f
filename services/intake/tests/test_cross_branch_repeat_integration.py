"""Idempotency never crosses branches. The key stays ``(source, request_id)`` (PRODUCT.md: a
request_id is unique per source); the same key from ANOTHER branch is refused — HTTP 409 naming
``request_id``, on the bus ``request_rejected`` and the message parked — with nothing of the
other branch's ticket, while a genuine repeat still answers as before. Real broker, SQLite and
PostgreSQL."""
import json

import pytest
from prometheus_client import REGISTRY

from aftersales.messaging.parking import ParkingLot
from tests.support.broker import publish_request, wait_parked
from tests.support.data import repair_request
from tests.support.fixtures import auth

pytestmark = pytest.mark.integration


def hangzhou_request(request_id: str) -> dict:
    """A genuine HZ request whose phone center reused an id SH's request already has."""
    return repair_request(
        request_id=request_id, branch="HZ", asset=None,
        customer={"name": "杭州钱塘新材料有限公司", "contact_name": "李娜", "phone": "13900001111"},
        site={"address": "杭州市钱塘区白杨街道6号大街18号"},
        fault={"description": "车间全部停电，停产"})


def leaks(text: str, sh: dict, sh_ticket_no: str) -> list[str]:
    """What of SH's ticket and customer shows up in ``text``."""
    secrets = [sh_ticket_no, sh["customer"]["name"], sh["customer"]["contact_name"],
               sh["customer"]["phone"], sh["site"]["address"], sh["fault"]["description"]]
    return [s for s in secrets if s in text]


def hz_rejections() -> float:
    """``aftersales_requests_total`` of rejected HZ phone requests (this process's registry)."""
    return REGISTRY.get_sample_value("aftersales_requests_total", {
        "branch": "HZ", "channel": "phone", "outcome": "rejected"}) or 0


def test_a_request_id_repeated_from_another_branch_is_refused_over_http(services, watcher, http):
    services.start("intake")
    url = services.url("intake", "/api/v1/tickets")
    rejected_before = hz_rejections()
    sh = repair_request()
    first = http.post(url, json=sh, headers=auth("SH"))
    assert first.status_code == 201, first.text
    sh_no = first.json()["ticket_no"]

    r = http.post(url, json=hangzhou_request(sh["request_id"]), headers=auth("HZ"))
    assert r.status_code == 409, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["request_id"]
    assert "request_id" in r.json()["error"]
    assert "ticket_no" not in r.json() and "priority" not in r.json()
    assert leaks(r.text, sh, sh_no) == []

    [rejected] = watcher.of_type("request_rejected", request_id=sh["request_id"])
    assert rejected["branch"] == "HZ" and rejected["ticket_no"] is None
    assert [e["field"] for e in rejected["data"]["errors"]] == ["request_id"]
    assert leaks(json.dumps(rejected, ensure_ascii=False), sh, sh_no) == []

    # a genuine repeat from SH answers as before; the outbox publishes in commit order, so the
    # two ticket_opened seen are SH's first answer and this repeat: none was re-sent for HZ
    again = http.post(url, json=sh, headers=auth("SH"))
    assert again.status_code == 200
    assert again.json() == {**first.json(), "outcome": "duplicate"}
    answers = watcher.of_type("ticket_opened", count=2, request_id=sh["request_id"])
    assert [(a["ticket_no"], a["data"]["duplicate"]) for a in answers] == [(sh_no, False),
                                                                           (sh_no, True)]
    assert len([e for e in watcher.events if e.get("type") == "ticket_opened"]) == 2

    # the HZ request goes through with an id of its own
    fresh = http.post(url, json=hangzhou_request("HZ-" + sh["request_id"]), headers=auth("HZ"))
    assert fresh.status_code == 201 and fresh.json()["ticket_no"].startswith("HZ-")

    assert hz_rejections() == rejected_before + 1


def test_a_request_id_repeated_from_another_branch_is_rejected_and_parked_on_the_bus(services, watcher):
    services.start("intake")
    sh = repair_request()
    publish_request(services.broker_uri, sh)
    [opened] = watcher.of_type("ticket_opened", request_id=sh["request_id"])
    sh_no = opened["ticket_no"]

    hz = hangzhou_request(sh["request_id"])
    publish_request(services.broker_uri, hz)
    [rejected] = watcher.of_type("request_rejected", request_id=sh["request_id"])
    assert rejected["branch"] == "HZ" and rejected["ticket_no"] is None
    [error] = rejected["data"]["errors"]
    assert error["field"] == "request_id" and sh["request_id"] in error["message"]
    assert leaks(json.dumps(rejected, ensure_ascii=False), sh, sh_no) == []

    [parked] = wait_parked(ParkingLot(services.broker_uri, "intake"), 1)
    assert "request_id" in parked.reason and "another branch" in parked.reason
    assert leaks(parked.reason, sh, sh_no) == []
    assert json.loads(parked.body)["branch"] == "HZ"      # the HZ request, kept for an operator

    publish_request(services.broker_uri, sh)              # a genuine repeat: answered as before
    answers = watcher.of_type("ticket_opened", count=2, request_id=sh["request_id"])
    assert [(a["ticket_no"], a["data"]["duplicate"]) for a in answers] == [(sh_no, False),
                                                                           (sh_no, True)]
    assert len([e for e in watcher.events if e.get("type") == "ticket_opened"]) == 2
