"""Agents' actions on tickets, the list/search endpoint, linked requests, replaced parts'
warranty and per-branch rules: over HTTP against the real broker and databases."""
import json
import shutil

import pytest

from aftersales.config import reference_dir
from aftersales.outbox import make_envelope
from tests.support.broker import publish_raw
from tests.support.data import repair_request
from tests.support.fixtures import auth

pytestmark = pytest.mark.integration


def open_ticket(services, http, **overrides) -> str:
    body = repair_request(**overrides)
    r = http.post(services.url("intake", "/api/v1/tickets"), json=body,
                  headers=auth(body["branch"], "agent"))
    assert r.status_code == 201, r.text
    return r.json()["ticket_no"]


def act(services, http, ticket_no, action, body, branch="SH", role="agent"):
    return http.post(services.url("intake", f"/api/v1/tickets/{ticket_no}/{action}"),
                     json=body, headers=auth(branch, role))


def view(services, http, ticket_no, branch="SH"):
    return http.get(services.url("intake", f"/api/v1/tickets/{ticket_no}"),
                    headers=auth(branch)).json()


def test_a_second_request_for_an_asset_with_an_open_ticket_is_linked_until_split(services, watcher, http):
    services.start("intake")
    first = open_ticket(services, http)
    second = open_ticket(services, http, fault={"description": "同一厂房屋面又有一处漏水"})
    [opened] = watcher.of_type("ticket_opened", ticket_no=second)
    assert opened["data"]["linked_to"] == first and opened["data"]["needs_visit"] is False
    [linked] = watcher.of_type("ticket_linked", ticket_no=first)
    assert linked["data"]["linked_ticket_no"] == second
    assert view(services, http, second)["status"] == "linked"
    assert "ticket_linked" in [e["type"] for e in view(services, http, first)["timeline"]]

    r = act(services, http, second, "split", {"reason": "不同位置，需单独派工"})
    assert r.status_code == 200 and r.json()["status"] == "open"
    again = watcher.of_type("ticket_opened", count=2, ticket_no=second)[1]
    assert again["data"]["split_from"] == first and again["data"]["needs_visit"] is True
    assert act(services, http, second, "split", {"reason": "again"}).status_code == 409


def test_reclassify_contact_resolve_and_cancel(services, watcher, http):
    services.start("intake")
    t = open_ticket(services, http, asset=None)
    r = act(services, http, t, "classification", {"priority": "A", "reason": "客户现场停产"})
    assert r.status_code == 200 and r.json()["priority"] == "A"
    [ev] = watcher.of_type("ticket_reclassified", ticket_no=t)
    assert (ev["data"]["previous_priority"], ev["data"]["priority"]) == ("B", "A")
    assert act(services, http, t, "classification", {"priority": "A", "reason": "x"}).status_code == 409
    r = act(services, http, t, "classification", {"priority": "Z"})
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {"priority", "reason"}

    r = act(services, http, t, "contact", {"channel": "phone", "note": "已电话联系张先生，约明早上门"})
    assert r.status_code == 200 and r.json()["first_contact"] is True
    assert act(services, http, t, "contact", {}).json()["first_contact"] is False
    assert len(watcher.of_type("customer_contacted", count=2, ticket_no=t)) == 2
    v = view(services, http, t)
    assert v["first_contact_at"] and v["classified_by"].startswith("agent:")
    assert [e["type"] for e in v["timeline"]].count("customer_contacted") == 2
    assert v["timeline"][2]["note"] == "已电话联系张先生，约明早上门"

    r = act(services, http, t, "cancel", {"reason": "客户自行修好"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    watcher.of_type("ticket_cancelled", ticket_no=t)
    assert act(services, http, t, "cancel", {"reason": "again"}).status_code == 409
    assert act(services, http, t, "contact", {}).status_code == 409
    assert act(services, http, t, "cancel", {"reason": "x"}, branch="BJ").status_code == 404
    assert act(services, http, t, "cancel", {"reason": "x"}, role="qc").status_code == 403

    c = open_ticket(services, http, asset=None, fault={"description": "请问如何申请年度保养？"})
    assert view(services, http, c)["category"] == "consultation"
    r = act(services, http, c, "resolve", {"resolution": "已电话解答，发送保养申请表"})
    assert r.status_code == 200 and r.json()["status"] == "resolved"
    watcher.of_type("ticket_resolved", ticket_no=c)


def test_list_and_search_tickets(services, http):
    services.start("intake")
    a = open_ticket(services, http, asset=None)
    b = open_ticket(services, http, asset=None, fault={"description": "车间全部停电"},
                    received_at="2026-11-20T10:00:00+08:00")
    open_ticket(services, http, asset=None, branch="BJ")
    c = open_ticket(services, http, asset=None, customer={
        "name": "上海静安置业有限公司", "contact_name": "赵敏", "phone": "021-62345678"})
    url = services.url("intake", "/api/v1/tickets")

    def q(params, branch="SH"):
        r = http.get(url, params=params, headers=auth(branch))
        assert r.status_code == 200, r.text
        return r.json()

    everything = q({})
    assert everything["total"] == 3            # the SH key sees SH only
    assert {t["ticket_no"] for t in everything["tickets"]} == {a, b, c}
    assert q({}, branch="HQ")["total"] == 4
    assert [t["ticket_no"] for t in q({"priority": "A"})["tickets"]] == [b]
    assert [t["ticket_no"] for t in q({"phone": "021-62345678"})["tickets"]] == [c]
    assert [t["ticket_no"] for t in q({"from": "2026-11-20", "to": "2026-11-20"})["tickets"]] == [b]
    page = q({"per_page": 2, "page": 2})
    assert page["total"] == 3 and len(page["tickets"]) == 1
    assert q({"status": "open"})["total"] == 3
    assert http.get(url, params={"branch": "BJ"}, headers=auth("SH")).status_code == 404
    r = http.get(url, params={"per_page": "1000", "from": "yesterday"}, headers=auth("SH"))
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {"per_page", "from"}


def test_a_part_fitted_on_a_job_carries_its_own_three_month_warranty(services, watcher, http):
    services.start("intake")
    t = open_ticket(services, http, asset=None)
    env = make_envelope("parts", "parts_consumed", {
        "ticket_no": t, "warehouse": "SH",
        "lines": [{"sku": "PT-COMP-FILTER", "quantity": 1, "serial_no": "NEW-FILTER-001"}]},
        ticket_no=t, branch="SH")
    publish_raw(services.broker_uri, "parts.events", "parts_consumed",
                json.dumps(env.to_json_dict()).encode())
    from tests.support.waiting import wait_until
    wait_until(lambda: "parts_consumed" in [e["type"] for e in view(services, http, t)["timeline"]],
               what="parts_consumed on the timeline")
    later = open_ticket(services, http, asset={"serial_no": "NEW-FILTER-001"})
    [opened] = watcher.of_type("ticket_opened", ticket_no=later)
    assert opened["data"]["warranty"]["status"] in ("in_warranty", "expired")
    assert opened["data"]["warranty"]["ends_on"] is not None   # known: 3 months from fitting


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
def test_a_branch_rules_file_classifies_before_the_defaults(services, http, tmp_path):
    ref = tmp_path / "reference"
    shutil.copytree(reference_dir(), ref)
    (ref / "classification").mkdir(exist_ok=True)
    (ref / "classification" / "SH.json").write_text(json.dumps(
        [{"name": "SH-crane", "keywords": ["行车"], "priority": "A", "category": "fault"}],
        ensure_ascii=False), encoding="utf-8")
    services.start("intake", reference_dir=str(ref))
    t = open_ticket(services, http, asset=None, fault={"description": "行车无法运行"})
    v = view(services, http, t)
    assert (v["priority"], v["category"]) == ("A", "fault")
    assert "SH-crane" in v["classified_by"]
