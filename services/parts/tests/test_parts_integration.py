"""Parts against the real broker and database (SQLite and PostgreSQL)."""
import json
import uuid

import pytest
from prometheus_client import REGISTRY

from aftersales.outbox import make_envelope
from tests.support.broker import publish_raw
from tests.support.fixtures import auth
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

SERVICE = "parts"
QUEUE = f"aftersales.{SERVICE}.events"


def job_completed(parts_used, branch="SH", ticket_no=None):
    ticket_no = ticket_no or f"{branch}-20261122-{uuid.uuid4().int % 1_000_000:06d}"
    return make_envelope("dispatch", "job_completed", {
        "ticket_no": ticket_no, "engineer_id": "E-SH-007",
        "completed_at": "2026-11-23T16:05:00+08:00",
        "summary": "更换锈蚀檩条两段，屋面防水卷材局部修补，配电柜断路器更换",
        "parts_used": parts_used,
    }, ticket_no=ticket_no, branch=branch)


def publish(uri, env):
    publish_raw(uri, "dispatch.events", "job_completed",
                json.dumps(env.to_json_dict(), ensure_ascii=False).encode("utf-8"))


def handled() -> float:
    """Messages parts has finished with on its queue (acknowledged: ok or duplicate)."""
    return sum(REGISTRY.get_sample_value("aftersales_messages_handled_total",
                                         {"service": SERVICE, "queue": QUEUE, "outcome": o}) or 0
               for o in ("ok", "duplicate"))


def wait_handled(target: float) -> None:
    wait_until(lambda: handled() >= target, what=f"{SERVICE} to acknowledge {target} message(s)")


def stock(http, services, branch="SH", key_branch="SH"):
    r = http.get(services.url("parts", "/api/v1/stock"), params={"branch": branch},
                 headers=auth(key_branch))
    assert r.status_code == 200, r.text
    return {i["sku"]: i["on_hand"] for i in r.json()["stock"]}


def test_job_completed_consumes_parts_and_the_stock_shows_it(services, watcher, http):
    services.start("parts")
    before = stock(http, services)
    env = job_completed([{"sku": "GJ-LT-C160", "quantity": 12, "serial_no": None},
                         {"sku": "DQ-DL-NXB63", "quantity": 1, "serial_no": "NXB-2026-88"}])
    publish(services.broker_uri, env)

    [consumed] = watcher.of_type("parts_consumed", ticket_no=env.ticket_no)
    assert consumed["branch"] == "SH" and consumed["source"] == "parts"
    assert consumed["data"]["warehouse"] == "SH"
    assert consumed["data"]["lines"] == [
        {"sku": "GJ-LT-C160", "quantity": 12, "serial_no": None},
        {"sku": "DQ-DL-NXB63", "quantity": 1, "serial_no": "NXB-2026-88"}]
    assert consumed["data"]["shortages"] == []

    after = stock(http, services)
    assert after["GJ-LT-C160"] == before["GJ-LT-C160"] - 12
    assert after["DQ-DL-NXB63"] == before["DQ-DL-NXB63"] - 1
    assert stock(http, services, "HZ", "HQ") == stock(http, services, "BJ", "HQ")  # untouched

    r = http.get(services.url("parts", "/api/v1/ledger"),
                 params={"branch": "SH", "ticket_no": env.ticket_no}, headers=auth("SH"))
    assert r.status_code == 200, r.text
    assert [(e["sku"], e["quantity"], e["kind"]) for e in r.json()["entries"]] == \
        [("GJ-LT-C160", -12, "consume"), ("DQ-DL-NXB63", -1, "consume")]

    r = http.get(services.url("parts", "/metrics"))
    assert (f'aftersales_parts_stock{{branch="SH",sku="GJ-LT-C160"}} '
            f'{float(after["GJ-LT-C160"])}') in r.text


def test_short_line_is_reported_not_consumed(services, watcher, http):
    services.start("parts")
    before = stock(http, services)
    env = job_completed([{"sku": "JX-KY-LX37", "quantity": before["JX-KY-LX37"] + 1},
                         {"sku": "WM-FS-SBS4", "quantity": 2},
                         {"sku": "NO-SUCH-SKU", "quantity": 1}])
    publish(services.broker_uri, env)
    [consumed] = watcher.of_type("parts_consumed", ticket_no=env.ticket_no)
    assert [line["sku"] for line in consumed["data"]["lines"]] == ["WM-FS-SBS4"]
    assert [line["sku"] for line in consumed["data"]["shortages"]] == ["JX-KY-LX37", "NO-SUCH-SKU"]
    after = stock(http, services)
    assert after["JX-KY-LX37"] == before["JX-KY-LX37"]
    assert after["WM-FS-SBS4"] == before["WM-FS-SBS4"] - 2


def test_redelivered_job_completed_has_one_effect(services, watcher, http):
    services.start("parts")
    before = stock(http, services)
    start = handled()
    env = job_completed([{"sku": "GJ-LS-M20", "quantity": 8}])
    publish(services.broker_uri, env)
    publish(services.broker_uri, env)
    wait_handled(start + 2)
    watcher.of_type("parts_consumed", ticket_no=env.ticket_no)

    assert stock(http, services)["GJ-LS-M20"] == before["GJ-LS-M20"] - 8
    r = http.get(services.url("parts", "/api/v1/ledger"),
                 params={"branch": "SH", "ticket_no": env.ticket_no}, headers=auth("SH"))
    assert len(r.json()["entries"]) == 1
    # a later event proves the relay has caught up: still only one parts_consumed for the job
    marker = job_completed([{"sku": "GJ-LS-M20", "quantity": 1}])
    publish(services.broker_uri, marker)
    watcher.of_type("parts_consumed", ticket_no=marker.ticket_no)
    assert len([e for e in watcher.events if e.get("type") == "parts_consumed"
                and e["ticket_no"] == env.ticket_no]) == 1


def test_job_without_parts_publishes_nothing(services, watcher):
    services.start("parts")
    start = handled()
    empty = job_completed([])
    publish(services.broker_uri, empty)
    wait_handled(start + 1)
    marker = job_completed([{"sku": "GJ-LS-M20", "quantity": 1}])
    publish(services.broker_uri, marker)
    watcher.of_type("parts_consumed", ticket_no=marker.ticket_no)
    assert not [e for e in watcher.events if e.get("ticket_no") == empty.ticket_no
                and e.get("type") == "parts_consumed"]


def test_branch_key_sees_only_its_own_warehouse(services, http):
    services.start("parts")
    url = services.url("parts", "/api/v1/stock")
    assert http.get(url, params={"branch": "SH"}, headers=auth("HZ")).status_code == 403
    r = http.get(url, headers=auth("HZ"))
    assert r.status_code == 200 and r.json()["branch"] == "HZ"
    names = {i["sku"]: i["name"] for i in r.json()["stock"]}
    assert names["DQ-DL-NXB63"].startswith("配电柜断路器")
    r = http.get(url, headers=auth("HQ", "manager"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "branch"
    assert http.get(url, params={"branch": "XX"}, headers=auth("HQ", "manager")).status_code == 422
    assert http.get(url, params={"branch": "GZ"}, headers=auth("HQ", "manager")).status_code == 200
    assert http.get(url, params={"branch": "SH"}).status_code == 401
    health = http.get(services.url("parts", "/health")).json()
    assert health["status"] == "ok" and health["service"] == "parts"


def test_concurrent_jobs_never_take_more_than_is_on_hand(services, watcher, http):
    services.start("parts")
    on_hand = stock(http, services)["JX-KY-LX37"]
    jobs = [job_completed([{"sku": "JX-KY-LX37", "quantity": 6}]) for _ in range(on_hand // 6 + 2)]
    for env in jobs:
        publish(services.broker_uri, env)
    events = watcher.wait_for(lambda e: e.get("type") == "parts_consumed"
                              and e["ticket_no"] in {j.ticket_no for j in jobs}, count=len(jobs))
    taken = sum(line["quantity"] for e in events for line in e["data"]["lines"])
    assert taken == (on_hand // 6) * 6
    assert sum(1 for e in events if e["data"]["shortages"]) == len(jobs) - on_hand // 6
    assert stock(http, services)["JX-KY-LX37"] == on_hand - taken >= 0
