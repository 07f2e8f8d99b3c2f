"""Complaints and return visits against the real broker and database (SQLite and
PostgreSQL): a complaint from intake and one from an agent, escalation when overdue,
resolution and the customer's confirmation; visits scheduled when a job closes, the due list,
and a visit that finds a problem opening a new ticket through intake's phone-center contract."""
import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import REGISTRY

from aftersales.clock import utcnow

from .support import call, job_closed, publish, ticket, ticket_opened

pytestmark = pytest.mark.integration

TZ = ZoneInfo("Asia/Shanghai")
# "now" for a run: local hours at which Shanghai's date differs from UTC's
NOWS = {
    "1st-of-month-07:30": datetime(2026, 12, 1, 7, 30, tzinfo=TZ),
    "31-december-07:00": datetime(2026, 12, 31, 7, 0, tzinfo=TZ),
    "29-february-2028-05:00": datetime(2028, 2, 29, 5, 0, tzinfo=TZ),
}


def complaints_count(branch, severity) -> float:
    return REGISTRY.get_sample_value("aftersales_complaints_total",
                                     {"branch": branch, "severity": severity}) or 0


@pytest.mark.parametrize("at", NOWS.values(), ids=NOWS.keys())
def test_complaints_from_intake_and_agents_escalate_when_overdue_and_close_on_confirmation(
        services, watcher, http, clock, at):
    clock.run_from(at)
    services.start("feedback", feedback_scan_interval=0.1)
    high = complaints_count("SH", "high")

    # intake: a ticket of category complaint, priority A -> severity high
    from_intake = ticket()
    publish(services, ticket_opened(from_intake, category="complaint", priority="A",
                                    fault={"description": "三次维修仍然漏水，要求经理出面", "category": "complaint"}))
    [reg] = watcher.of_type("complaint_registered", ticket_no=from_intake)
    assert reg["data"]["source"] == "intake" and reg["data"]["severity"] == "high"
    assert complaints_count("SH", "high") == high + 1
    assert REGISTRY.get_sample_value("aftersales_complaints_total",
                                     {"branch": "GZ", "severity": "low"}) is not None  # from zero
    assert "aftersales_complaints_total" in http.get(services.url("feedback", "/metrics")).text
    [c] = call(http, services, "GET", "/api/v1/complaints", params={"ticket_no": from_intake},
               expect=200).json()["complaints"]
    assert c["description"] == "三次维修仍然漏水，要求经理出面" and c["status"] == "open"

    # an agent's complaint whose deadline has passed already escalates on the next scan; the
    # deadline is written in Shanghai time (+08:00) and kept as that instant
    about = ticket()
    past_instant = utcnow() - timedelta(minutes=1)
    past = past_instant.astimezone(TZ).isoformat()
    call(http, services, "POST", "/api/v1/complaints", key=("SH", "engineer", "E-SH-007"),
         json={"ticket_no": about, "severity": "low", "description": "x"}, expect=403)
    r = call(http, services, "POST", "/api/v1/complaints", expect=422,
             json={"ticket_no": about, "severity": "urgent", "description": ""})
    assert {e["field"] for e in r.json()["errors"]} == {"severity", "description"}
    mine = call(http, services, "POST", "/api/v1/complaints", expect=201, json={
        "ticket_no": about, "severity": "medium", "description": "工程师上门迟到两小时",
        "owner": "售后主管 王", "deadline": past}).json()
    cid = mine["complaint_id"]
    assert datetime.fromisoformat(mine["deadline"]) == past_instant
    [esc] = watcher.of_type("complaint_escalated", complaint_id=cid)
    assert esc["data"]["level"] == 1 and esc["data"]["escalated_to"] == "branch_manager"
    call(http, services, "GET", f"/api/v1/complaints/{cid}", key=("HZ", "agent"), expect=404)

    base = f"/api/v1/complaints/{cid}"
    call(http, services, "POST", f"{base}/note", json={"text": "已致电客户致歉"}, expect=200)
    call(http, services, "POST", f"{base}/confirm", json={"satisfied": True}, expect=409)
    call(http, services, "POST", f"{base}/resolve", json={"text": "更换工程师并减免上门费"}, expect=200)
    watcher.of_type("complaint_resolved", complaint_id=cid)
    done = call(http, services, "POST", f"{base}/confirm",
                json={"satisfied": True, "note": "客户满意"}, expect=200).json()
    assert done["status"] == "closed" and done["satisfied"] is True
    assert done["escalation_level"] == 1 and [n["text"] for n in done["notes"]][:2] == \
        ["registered", "overdue: escalated to branch_manager"]
    [conf] = watcher.of_type("complaint_confirmed", complaint_id=cid)
    assert conf["data"]["satisfied"] is True


def test_a_return_visit_that_finds_a_problem_opens_a_ticket_through_intake(services, watcher, http,
                                                                          caplog, clock):
    clock.run_from(datetime(2027, 1, 1, 6, 0, tzinfo=TZ))
    caplog.set_level(logging.INFO, logger="services.feedback")
    services.start("intake")
    services.start("feedback")
    ticket_no = ticket()
    closed_at = utcnow() - timedelta(days=200)   # 1, 3 and 6 months ago
    publish(services, ticket_opened(ticket_no))
    publish(services, job_closed(ticket_no, at=closed_at))
    watcher.of_type("survey_issued", ticket_no=ticket_no)

    due = call(http, services, "GET", "/api/v1/return-visits", expect=200).json()["visits"]
    mine = [v for v in due if v["ticket_no"] == ticket_no]
    assert [v["label"] for v in mine] == ["1 个月回访", "3 个月回访", "6 个月回访"]
    assert all(v["due"] and v["customer"]["contact_name"] == "张伟" for v in mine)
    assert call(http, services, "GET", "/api/v1/return-visits", key=("HZ", "agent"),
                expect=200).json()["visits"] == []

    first, second = mine[0], mine[1]
    call(http, services, "POST", f"/api/v1/return-visits/{first['visit_id']}/outcome",
         json={"outcome": "ok", "notes": "客户反馈使用正常"}, expect=200)
    call(http, services, "POST", f"/api/v1/return-visits/{first['visit_id']}/outcome",
         json={"outcome": "ok"}, expect=409)
    r = call(http, services, "POST", f"/api/v1/return-visits/{second['visit_id']}/outcome",
             json={"outcome": "problem_found"}, expect=422)
    assert r.json()["errors"][0]["field"] == "problem"
    done = call(http, services, "POST", f"/api/v1/return-visits/{second['visit_id']}/outcome",
                json={"outcome": "problem_found", "problem": "屋面天沟接缝处再次渗水",
                      "priority": "B"}, expect=200).json()
    request_id = done["request_id"]
    assert request_id and done["status"] == "done"

    [completed] = watcher.of_type("return_visit_completed", visit_id=second["visit_id"])
    assert completed["data"]["outcome"] == "problem_found"
    assert completed["data"]["request_id"] == request_id
    # intake took it exactly as from a phone center and opened a new ticket
    [opened] = watcher.of_type("ticket_opened", request_id=request_id)
    assert opened["data"]["source"] == "return_visit" and opened["branch"] == "SH"
    assert opened["ticket_no"] != ticket_no and opened["data"]["priority"] == "B"
    assert opened["data"]["customer"]["contact_name"] == "张伟"
    assert "屋面天沟接缝处再次渗水" in opened["data"]["fault"]["description"]
    [raw] = [e for e in watcher.events if e.get("_routing_key") == "repair_requested"]
    assert raw["request_id"] == request_id and "type" not in raw      # not enveloped

    left = call(http, services, "GET", "/api/v1/return-visits", expect=200,
                params={"ticket_no": ticket_no}).json()["visits"]
    assert [v["visit_id"] for v in left] == [mine[2]["visit_id"]]
    # feedback logged the request it filed, the customer masked
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("services.feedback")]
    assert any(request_id in m and "张*" in m for m in logged), logged
    assert not any("13812345678" in m or "张伟" in m for m in logged)


def test_visit_plans_are_managed_by_hq_and_schedule_matching_projects(services, watcher, http,
                                                                        clock):
    clock.run_from(datetime(2028, 2, 29, 5, 0, tzinfo=TZ))
    services.start("feedback")
    roof, other = ticket(), ticket()
    last_year = utcnow().replace(month=6, day=1) - timedelta(days=366)
    publish(services, ticket_opened(roof))                       # 屋面檩条: matches 屋面
    publish(services, ticket_opened(other, site={"address": "杭州市余杭区", "contract_no": "HT-X"},
                                    asset={"component": "配电柜"}))
    publish(services, job_closed(roof, at=last_year))
    publish(services, job_closed(other, at=last_year))
    watcher.of_type("survey_issued", ticket_no=other)
    watcher.of_type("survey_issued", ticket_no=roof)

    plans = call(http, services, "GET", "/api/v1/visit-plans", expect=200).json()["plans"]
    assert {p["plan_id"] for p in plans} >= {"rainy-season-roof", "annual-delivered"}
    body = {"name": "雨季屋面防水检查", "kind": "seasonal", "month": 5, "day": 20,
            "keywords": ["屋面"]}
    call(http, services, "PUT", "/api/v1/visit-plans/roof-check", key=("SH", "manager"),
         json=body, expect=403)
    r = call(http, services, "PUT", "/api/v1/visit-plans/roof-check", key=("HQ", "manager"),
             json={**body, "month": 13}, expect=422)
    assert r.json()["errors"][0]["field"] == "month"
    call(http, services, "PUT", "/api/v1/visit-plans/roof-check", key=("HQ", "manager"),
         json=body, expect=200)
    year = utcnow().year + 1
    gen = f"/api/v1/visit-plans/roof-check/generate?year={year}"
    call(http, services, "POST", gen, key=("SH", "manager"), expect=403)   # HQ only (issue #13)
    assert call(http, services, "POST", gen, key=("HQ", "manager"), expect=200).json()["scheduled"] >= 1
    assert call(http, services, "POST", gen, key=("HQ", "manager"), expect=200).json()["scheduled"] == 0
    planned = call(http, services, "GET", "/api/v1/return-visits", expect=200,
                   params={"all": "1"}).json()["visits"]
    seasonal = [v for v in planned if v["plan_id"] == "roof-check"]
    assert roof in {v["ticket_no"] for v in seasonal}
    assert other not in {v["ticket_no"] for v in seasonal}
    assert all(v["due_at"].startswith(f"{year}-05-20") for v in seasonal)
    # 09:00 in the branch's time zone (01:00 UTC), not 09:00 UTC
    assert {datetime.fromisoformat(v["due_at"]) for v in seasonal} == {datetime(year, 5, 20, 9, tzinfo=TZ)}


VISITS = {
    # closed (local)                 -> the 1-month visit is due (local)
    "1st-of-month-03:00": (datetime(2026, 12, 1, 3, 0, tzinfo=TZ), datetime(2027, 1, 1, 3, 0, tzinfo=TZ)),
    "31-january-leap-year": (datetime(2028, 1, 31, 3, 0, tzinfo=TZ), datetime(2028, 2, 29, 3, 0, tzinfo=TZ)),
    "29-february-00:30": (datetime(2028, 2, 29, 0, 30, tzinfo=TZ), datetime(2028, 3, 29, 0, 30, tzinfo=TZ)),
}


@pytest.mark.parametrize("closed_at, due_at", VISITS.values(), ids=VISITS.keys())
def test_a_return_visit_is_due_on_the_same_local_day_a_month_after_the_job_closed(
        services, watcher, http, clock, closed_at, due_at):
    clock.run_from(due_at + timedelta(minutes=5))
    services.start("feedback")
    ticket_no = ticket()
    publish(services, ticket_opened(ticket_no))
    publish(services, job_closed(ticket_no, at=closed_at))
    watcher.of_type("survey_issued", ticket_no=ticket_no)
    due = call(http, services, "GET", "/api/v1/return-visits", expect=200,
               params={"ticket_no": ticket_no}).json()["visits"]
    assert [(v["label"], datetime.fromisoformat(v["due_at"])) for v in due] == [("1 个月回访", due_at)]
    assert due[0]["due"] is True
    # not due on the local day before: the list due before that day's local midnight is empty
    day_before = due_at.replace(hour=0, minute=0).isoformat()
    assert call(http, services, "GET", "/api/v1/return-visits", expect=200,
                params={"ticket_no": ticket_no, "due_before": day_before}).json()["visits"] == []
