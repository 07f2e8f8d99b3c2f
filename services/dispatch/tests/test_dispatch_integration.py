"""Dispatch against the real broker and database (SQLite and PostgreSQL)."""
from __future__ import annotations

import collections
import json

import pytest
from prometheus_client import REGISTRY

from aftersales.outbox import make_envelope
from tests.support.broker import publish_raw, publish_request
from tests.support.data import repair_request
from tests.support.fixtures import auth
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

QUEUE = "aftersales.dispatch.events"
SUMMARY = "更换锈蚀檩条两根，屋面重新做防水，客户现场确认"


def ticket_opened(ticket_no: str, branch: str = "SH", **data):
    """A ``ticket_opened`` event as intake publishes it (built here, to control event ids)."""
    req = repair_request(branch=branch)
    body = {
        "ticket_no": ticket_no, "request_id": req["request_id"], "source": req["source"],
        "channel": req["channel"], "received_at": req["received_at"], "priority": "B",
        "category": "fault", "needs_visit": True, "customer": req["customer"],
        "site": req["site"], "asset": req["asset"], "fault": req["fault"],
        "warranty": {"status": "in_warranty", "ends_on": "2029-06-18",
                     "component_category": "main_structure"},
        "duplicate": False, **data,
    }
    return make_envelope("intake", "ticket_opened", body, ticket_no=ticket_no, branch=branch)


def publish(uri: str, env) -> None:
    publish_raw(uri, "intake.events", env.type,
                json.dumps(env.to_json_dict(), ensure_ascii=False).encode("utf-8"))


def handled() -> float:
    """Messages dispatch's consumer has finished with (in this process, all tests)."""
    return sum(REGISTRY.get_sample_value("aftersales_messages_handled_total",
                                         {"service": "dispatch", "queue": QUEUE,
                                          "outcome": outcome}) or 0.0
               for outcome in ("ok", "duplicate"))


def step(http, services, ticket_no, action, headers, body=None, raw=None):
    url = services.url("dispatch", f"/api/v1/jobs/{ticket_no}/{action}")
    if raw is not None:
        return http.post(url, data=raw, headers=headers)
    return http.post(url, json=body, headers=headers)


def test_a_phone_center_request_is_assigned_to_the_best_engineer(services, watcher, http):
    services.start("intake")
    services.start("dispatch")
    body = repair_request()          # 局部漏水 → B / fault
    publish_request(services.broker_uri, body)
    [opened] = watcher.of_type("ticket_opened", request_id=body["request_id"])
    ticket_no = opened["ticket_no"]

    [assigned] = watcher.of_type("engineer_assigned", ticket_no=ticket_no)
    assert assigned["branch"] == "SH" and assigned["source"] == "dispatch"
    data = assigned["data"]
    assert (data["engineer_id"], data["engineer_name"]) == ("SH-E001", "李强")
    assert "技能匹配 fault" in data["reason"] and "0/3" in data["reason"]

    r = http.get(services.url("dispatch", f"/api/v1/jobs/{ticket_no}"), headers=auth("SH", "dispatcher"))
    assert r.status_code == 200, r.text
    job = r.json()
    assert (job["status"], job["priority"], job["category"]) == ("assigned", "B", "fault")
    assert job["received_at"] == "2026-11-22T01:30:00+00:00"      # 09:30 +08:00, kept exactly
    [decision] = job["assignments"]
    assert decision["reason"] == data["reason"]
    assert [c["engineer_id"] for c in decision["ranking"]] == ["SH-E001", "SH-E002", "SH-E003"]

    m = http.get(services.url("dispatch", "/metrics")).text
    assert 'aftersales_dispatch_jobs_open{branch="SH",priority="B",state="assigned"} 1.0' in m
    assert 'aftersales_dispatch_jobs_open{branch="GZ",priority="A",state="escalated"} 0.0' in m
    assert "李强" not in m and ticket_no not in m


def test_redelivered_or_repeated_ticket_opened_has_one_effect(services, watcher, http):
    services.start("dispatch")
    uri = services.broker_uri
    first = ticket_opened("SH-20261122-0001")
    publish(uri, first)
    watcher.of_type("engineer_assigned", ticket_no="SH-20261122-0001")

    before = handled()
    publish(uri, first)                                                   # redelivered
    publish(uri, ticket_opened("SH-20261122-0001"))                       # re-sent, new event id
    publish(uri, ticket_opened("SH-20261122-0001", duplicate=True))       # intake's repeat answer
    publish(uri, ticket_opened("SH-20261122-0002", category="consultation", needs_visit=False))
    wait_until(lambda: handled() >= before + 4, what="dispatch to handle four more events")

    # a later ticket's assignment is published after anything the four could have caused
    publish(uri, ticket_opened("SH-20261122-0003"))
    watcher.of_type("engineer_assigned", ticket_no="SH-20261122-0003")
    types = [(e["type"], e.get("ticket_no")) for e in watcher.events
             if e.get("source") == "dispatch" and e["type"] in ("engineer_assigned", "assignment_failed")]
    assert types == [("engineer_assigned", "SH-20261122-0001"),
                     ("engineer_assigned", "SH-20261122-0003")]

    headers = auth("SH", "dispatcher")
    job = http.get(services.url("dispatch", "/api/v1/jobs/SH-20261122-0001"), headers=headers).json()
    assert len(job["assignments"]) == 1
    assert http.get(services.url("dispatch", "/api/v1/jobs/SH-20261122-0002"),
                    headers=headers).status_code == 404                  # no visit, no job
    # the one job counts as workload when the next ticket is assigned
    third = http.get(services.url("dispatch", "/api/v1/jobs/SH-20261122-0003"), headers=headers).json()
    assert (job["engineer_id"], third["engineer_id"]) == ("SH-E001", "SH-E001")
    assert "当前工单 1/3" in third["assignments"][0]["reason"]


def test_accept_check_in_complete_over_http_with_auth_and_state_rules(services, watcher, http):
    services.start("dispatch")
    ticket_no = "SH-20261122-0007"
    publish(services.broker_uri, ticket_opened(ticket_no))
    [assigned] = watcher.of_type("engineer_assigned", ticket_no=ticket_no)
    me = auth("SH", "engineer", assigned["data"]["engineer_id"])

    assert step(http, services, ticket_no, "accept", {}).status_code == 401
    r = step(http, services, ticket_no, "accept", auth("SH", "engineer", "SH-E002"))
    assert r.status_code == 403 and "not assigned to engineer SH-E002" in r.json()["error"]
    assert step(http, services, ticket_no, "accept", auth("SH", "agent")).status_code == 403
    assert step(http, services, ticket_no, "accept", auth("BJ", "dispatcher")).status_code == 404
    assert step(http, services, "SH-20000101-0001", "accept", me).status_code == 404

    r = step(http, services, ticket_no, "check-in", me)
    assert r.status_code == 409 and "it is 'assigned'" in r.json()["error"]

    r = step(http, services, ticket_no, "accept", me, body={})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted" and r.json()["accepted_at"]
    [accepted] = watcher.of_type("job_accepted", ticket_no=ticket_no)
    assert accepted["data"]["engineer_id"] == "SH-E001"
    assert step(http, services, ticket_no, "accept", me).status_code == 409

    r = step(http, services, ticket_no, "complete", me,
             body={"summary": "  ", "parts_used": [{"sku": "", "quantity": 0}]})
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == \
        {"summary", "parts_used.0.sku", "parts_used.0.quantity"}
    assert step(http, services, ticket_no, "complete", me, raw=b"{oops").status_code == 400

    r = step(http, services, ticket_no, "check-in", auth("SH", "dispatcher"), raw=b"")  # on the engineer's behalf
    assert r.status_code == 200 and r.json()["status"] == "on_site"
    [checked_in] = watcher.of_type("engineer_checked_in", ticket_no=ticket_no)
    assert checked_in["data"]["engineer_id"] == "SH-E001"

    parts = [{"sku": "GJ-LT-C160", "quantity": 2, "serial_no": "LT-2026-0042"},
             {"sku": "WM-FS-SBS4", "quantity": 1}]
    r = step(http, services, ticket_no, "complete", me, body={"summary": SUMMARY, "parts_used": parts})
    assert r.status_code == 200, r.text
    [done] = watcher.of_type("job_completed", ticket_no=ticket_no)
    assert done["data"]["summary"] == SUMMARY
    assert done["data"]["parts_used"] == [parts[0], {**parts[1], "serial_no": None}]
    assert step(http, services, ticket_no, "check-in", me).status_code == 409

    url = services.url("dispatch", f"/api/v1/jobs/{ticket_no}")
    assert http.get(url, headers=auth("BJ", "manager")).status_code == 404
    view = http.get(url, headers=auth("HQ", "manager")).json()
    assert (view["status"], view["summary"]) == ("completed", SUMMARY)
    assert view["accepted_at"] <= view["checked_in_at"] <= view["completed_at"]


def test_a_branch_out_of_capacity_escalates_to_its_supervisor(services, watcher, http):
    # GZ: 黄志明 takes 2 jobs, 林晓燕 1, 梁家豪 is inactive; the fourth ticket has nobody
    services.start("dispatch")
    tickets = [f"GZ-20261122-000{n}" for n in range(1, 5)]
    for no in tickets:
        publish(services.broker_uri, ticket_opened(no, branch="GZ", warranty={
            "status": "in_warranty", "ends_on": "2027-02-10", "component_category": "water_electrical"}))
    outcomes = watcher.wait_for(lambda e: e.get("type") in ("engineer_assigned", "assignment_failed")
                                and e.get("ticket_no") in tickets, count=4)
    assigned = [e for e in outcomes if e["type"] == "engineer_assigned"]
    [failed] = [e for e in outcomes if e["type"] == "assignment_failed"]
    assert collections.Counter(e["data"]["engineer_id"] for e in assigned) == {"GZ-E001": 2, "GZ-E002": 1}
    assert failed["data"]["escalated_to"] == "GZ-S001"
    assert "满负荷" in failed["data"]["reason"] and "何伟强" in failed["data"]["reason"]

    jobs = services.url("dispatch", "/api/v1/jobs")
    r = http.get(jobs, params={"status": "escalated"}, headers=auth("GZ", "dispatcher"))
    assert r.status_code == 200 and [j["ticket_no"] for j in r.json()["jobs"]] == [failed["ticket_no"]]
    assert r.json()["jobs"][0]["escalated_to"] == "GZ-S001"
    assert http.get(jobs, headers=auth("GZ", "engineer", "GZ-E001")).json()["count"] == 2
    assert http.get(jobs, headers=auth("SH", "dispatcher")).json()["count"] == 0
    assert http.get(jobs, headers=auth("HQ", "manager")).json()["count"] == 4
    assert http.get(jobs, params={"branch": "GZ"}, headers=auth("SH", "manager")).status_code == 403
    r = http.get(jobs, params={"status": "lost", "limit": "0"}, headers=auth("GZ"))
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {"status", "limit"}
    m = http.get(services.url("dispatch", "/metrics")).text
    assert 'aftersales_dispatch_jobs_open{branch="GZ",priority="B",state="escalated"} 1.0' in m
    assert 'aftersales_dispatch_jobs_open{branch="GZ",priority="B",state="assigned"} 3.0' in m

    # 林晓燕 finishes her job: the next ticket is hers again
    [hers] = [e["ticket_no"] for e in assigned if e["data"]["engineer_id"] == "GZ-E002"]
    me = auth("GZ", "engineer", "GZ-E002")
    for action, body in (("accept", {}), ("check-in", {}), ("complete", {"summary": "更换照明配电箱断路器"})):
        assert step(http, services, hers, action, me, body=body).status_code == 200
    publish(services.broker_uri, ticket_opened("GZ-20261122-0005", branch="GZ"))
    [fifth] = watcher.of_type("engineer_assigned", ticket_no="GZ-20261122-0005")
    assert fifth["data"]["engineer_id"] == "GZ-E002"
