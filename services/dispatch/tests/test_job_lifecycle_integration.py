"""The whole on-site job, reassignment, the board and the roster over HTTP, against the real
broker and database (SQLite and PostgreSQL)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from services.dispatch.tests.test_dispatch_integration import publish, ticket_opened
from tests.support.fixtures import auth

pytestmark = pytest.mark.integration

PAID = {"status": "expired", "ends_on": "2025-06-18", "component_category": "main_structure"}


def _now():
    return datetime.now(timezone.utc)


def test_a_paid_job_from_appointment_to_rework_and_sign_off(services, watcher, http):
    services.start("dispatch", report_interval_hours=0.0005, sla_timer_interval=0.2)  # 1.8 s
    ticket_no = f"SH-{_now():%Y%m%d}-9001"
    publish(services.broker_uri, ticket_opened(ticket_no, received_at=_now().isoformat(),
                                               warranty=PAID))
    [assigned] = watcher.of_type("engineer_assigned", ticket_no=ticket_no)
    eng = assigned["data"]["engineer_id"]
    me = auth("SH", "engineer", eng)

    def step(action, body=None, key=me, expect=200):
        r = http.post(services.url("dispatch", f"/api/v1/jobs/{ticket_no}/{action}"),
                      json=body or {}, headers=key)
        assert r.status_code == expect, f"{action}: {r.status_code} {r.text}"
        return r.json()

    step("accept")
    start = _now() + timedelta(hours=2)
    step("appointment", {"window_from": start.isoformat(),
                         "window_to": (start - timedelta(hours=1)).isoformat()}, expect=422)
    job = step("appointment", {"window_from": start.isoformat(),
                               "window_to": (start + timedelta(hours=2)).isoformat(),
                               "note": "客户要求下午上门"})
    assert job["status"] == "scheduled"
    [contact] = watcher.of_type("sla_stage_completed", ticket_no=ticket_no, stage="response")
    assert contact["data"]["met"] is True
    step("en-route", {"eta": start.isoformat()})
    step("check-in")
    watcher.of_type("sla_stage_completed", ticket_no=ticket_no, stage="arrival")
    # on site without a progress report for the (shortened) daily interval: a reminder
    [missing] = watcher.of_type("progress_report_missing", ticket_no=ticket_no, timeout=10)
    assert missing["data"]["engineer_id"] == eng
    r = step("diagnosis", {"cause": "misuse", "responsibility": "customer", "warranty_void": True},
             expect=422)
    assert r["errors"][0]["field"] == "void_reason"
    step("diagnosis", {"cause": "misuse", "responsibility": "customer", "warranty_void": True,
                       "void_reason": "客户私自改装屋面荷载", "findings": "檩条超载变形"})
    [diag] = watcher.of_type("job_diagnosed", ticket_no=ticket_no)
    assert diag["data"]["chargeable"] is True and diag["data"]["void_reason"] == "客户私自改装屋面荷载"
    assert "work starts only after" in step("complete", {"summary": "x"}, expect=409)["error"]
    step("quote", {"materials": "1200.50", "labour": "800", "travel": "150"})
    [quote] = watcher.of_type("quote_issued", ticket_no=ticket_no)
    assert quote["data"]["total"] == "2150.50"
    step("quote/decision", {"approved": True}, key=auth("SH", "agent"))
    [decided] = watcher.of_type("quote_decided", ticket_no=ticket_no)
    assert decided["data"]["total"] == "2150.50"            # a string with two places, not 2150.5
    step("parts-requests", {"lines": [{"sku": "GJ-LT-C160", "quantity": 2}], "note": "现场急需"})
    [parts] = watcher.of_type("parts_requested", ticket_no=ticket_no)
    assert parts["data"]["in_warranty"] is False and parts["data"]["requested_by"] == eng
    step("reports", {"progress": "已拆除变形檩条，等待备件", "percent": 40})
    step("complete", {"summary": "更换檩条两根"})
    step("sign-off", {"accepted": False}, expect=422)                  # a rejection needs its reason
    step("sign-off", {"accepted": False, "reason": "屋面仍有渗水"}, key=auth("SH", "agent"))
    [rework] = watcher.of_type("job_rework", ticket_no=ticket_no)
    assert rework["data"]["rework_count"] == 1
    step("check-in")
    step("complete", {"summary": "补做防水，淋水试验合格"})
    job = step("sign-off", {"accepted": True, "signed_by": "张伟"})
    assert (job["status"], job["visits"], job["rework_count"]) == ("closed", 2, 1)
    [closed] = watcher.of_type("job_closed", ticket_no=ticket_no)
    assert closed["data"]["first_time_fix"] is False and closed["data"]["visits"] == 2
    [resolved] = watcher.of_type("sla_stage_completed", ticket_no=ticket_no, stage="resolution")
    assert resolved["data"]["met"] is True
    assert step("sign-off", {"accepted": True}, expect=409)

    view = http.get(services.url("dispatch", f"/api/v1/jobs/{ticket_no}"),
                    headers=auth("SH", "dispatcher")).json()
    assert view["quote"]["approved"] is True and view["diagnosis"]["cause"] == "misuse"
    assert (view["quote"]["materials"], view["quote"]["labour"], view["quote"]["total"]) == (
        "1200.50", "800.00", "2150.50")
    assert [r["progress"] for r in view["reports"]] == ["已拆除变形檩条，等待备件"]
    assert {c["stage"]: c["status"] for c in view["sla"]["clocks"]} == {
        "response": "met", "dispatch": "met", "arrival": "met", "resolution": "met"}


def test_decline_timeout_manual_reassign_board_and_roster(services, watcher, http):
    services.start("dispatch", accept_timeout_minutes=0.1, sla_timer_interval=0.2)   # 6 s
    dispatcher = auth("SH", "dispatcher")
    # the roster over HTTP: a new engineer, then leave for SH-E002 today
    r = http.put(services.url("dispatch", "/api/v1/engineers/SH-E009"), headers=dispatcher, json={
        "name": "赵敏", "branch": "SH", "skills": "fault:5;main_structure:3", "zone": "宝山",
        "max_jobs": 2})
    assert r.status_code == 201, r.text
    assert http.put(services.url("dispatch", "/api/v1/engineers/BJ-E009"), headers=dispatcher,
                    json={"name": "x", "branch": "BJ"}).status_code == 403
    r = http.put(services.url("dispatch", "/api/v1/engineers/SH-E010"), headers=dispatcher,
                 json={"name": "x", "branch": "SH", "shift": "monday 9-5"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "shift"
    r = http.put(services.url("dispatch", "/api/v1/engineers/SH-E010"), headers=auth("HQ", "manager"),
                 json={"name": "x", "branch": "XX"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "branch"
    today = _now().astimezone(timezone(timedelta(hours=8))).date().isoformat()
    r = http.post(services.url("dispatch", "/api/v1/engineers/SH-E009/leave"), headers=dispatcher,
                  json={"from": today, "to": today})
    assert r.status_code == 200 and r.json()["leave"]
    people = http.get(services.url("dispatch", "/api/v1/engineers"), headers=dispatcher).json()
    zhao = next(e for e in people["engineers"] if e["engineer_id"] == "SH-E009")
    assert zhao["on_leave"] is True and zhao["levels"] == {"fault": 5, "main_structure": 3}

    ticket_no = f"SH-{_now():%Y%m%d}-9002"
    publish(services.broker_uri, ticket_opened(ticket_no, received_at=_now().isoformat()))
    [first] = watcher.of_type("engineer_assigned", ticket_no=ticket_no)
    assert first["data"]["engineer_id"] == "SH-E001"           # 赵敏 is on leave
    r = http.post(services.url("dispatch", f"/api/v1/jobs/{ticket_no}/decline"),
                  json={"reason": "车辆故障"}, headers=auth("SH", "engineer", "SH-E001"))
    assert r.status_code == 200 and r.json()["engineer_id"] == "SH-E002"
    [declined] = watcher.of_type("job_declined", ticket_no=ticket_no)
    assert declined["data"]["timed_out"] is False
    [second] = watcher.of_type("engineer_assigned", ticket_no=ticket_no, engineer_id="SH-E002")
    assert second["data"]["previous_engineer_id"] == "SH-E001" and "拒单" in second["data"]["reason"]
    # SH-E002 does not answer within the (6 s) acceptance timeout: reassigned again
    [timeout] = watcher.of_type("job_declined", ticket_no=ticket_no, engineer_id="SH-E002")
    assert timeout["data"]["timed_out"] is True
    [third] = watcher.of_type("engineer_assigned", ticket_no=ticket_no, previous_engineer_id="SH-E002")
    assert third["data"]["engineer_id"] not in ("SH-E001", "SH-E002")

    # the dispatcher assigns by hand, with a reason; across to a neighbour is allowed, not further
    url = services.url("dispatch", f"/api/v1/jobs/{ticket_no}/assign")
    assert http.post(url, json={"engineer_id": "GZ-E001", "reason": "x"},
                     headers=dispatcher).status_code == 422
    assert http.post(url, json={"engineer_id": "SH-E001"}, headers=dispatcher).status_code == 422
    assert http.post(url, json={"engineer_id": "SH-E001", "reason": "x"},
                     headers=auth("SH", "engineer", "SH-E001")).status_code == 403
    r = http.post(url, json={"engineer_id": "HZ-E001", "reason": "宝山片区人手不足，杭州支援"},
                  headers=dispatcher)
    assert r.status_code == 200, r.text
    job = r.json()
    assert job["engineer_id"] == "HZ-E001" and job["assignments"][-1]["reason"].startswith("人工派工")
    [manual] = watcher.of_type("engineer_assigned", ticket_no=ticket_no, engineer_id="HZ-E001")
    assert manual["data"]["manual"] is True
    # the engineer lent from HZ sees and works the SH job with an HZ key
    hz = auth("HZ", "engineer", "HZ-E001")
    mine = http.get(services.url("dispatch", "/api/v1/jobs"), headers=hz).json()
    assert [j["ticket_no"] for j in mine["jobs"]] == [ticket_no]
    r = http.post(services.url("dispatch", f"/api/v1/jobs/{ticket_no}/accept"), headers=hz)
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    assert http.get(services.url("dispatch", f"/api/v1/jobs/{ticket_no}"),
                    headers=auth("HZ", "engineer", "HZ-E002")).status_code == 404

    board = http.get(services.url("dispatch", "/api/v1/board"), headers=dispatcher)
    assert board.status_code == 200, board.text
    doc = board.json()
    [row] = [j for j in doc["jobs"] if j["ticket_no"] == ticket_no]
    assert row["status"] == "accepted" and row["next_deadline"]["stage"] == "response"
    assert {e["engineer_id"] for e in doc["engineers"]} >= {"SH-E001", "SH-E009"}
    assert http.get(services.url("dispatch", "/api/v1/board"),
                    headers=auth("SH", "engineer", "SH-E001")).status_code == 403
    assert http.get(services.url("dispatch", "/api/v1/board"), params={"branch": "BJ"},
                    headers=dispatcher).status_code == 403
