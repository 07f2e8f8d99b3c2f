"""Surveys against the real broker and database (SQLite and PostgreSQL): issued when a job
closes, answered over the link or recorded by an agent, the low-score follow-up, reminders
and expiry by the scheduler."""
import json
from datetime import datetime, timedelta, timezone

import pytest
from prometheus_client import REGISTRY

from tests.support.fixtures import auth
from tests.support.waiting import wait_handled

from .support import (GOOD, QUEUE, SERVICE, call, issued, job_closed, publish, surveys, ticket,
                      ticket_opened)

pytestmark = pytest.mark.integration


def test_job_closed_issues_one_survey_whose_token_stays_secret(services, watcher, http):
    services.start("feedback")
    event, survey = issued(services, watcher, http)
    assert event["source"] == "feedback" and event["branch"] == "SH"
    assert event["data"]["survey_id"] == survey["survey_id"]
    expires = datetime.fromisoformat(event["data"]["expires_at"])
    assert abs(expires - datetime.now(timezone.utc) - timedelta(days=14)) < timedelta(minutes=5)
    assert survey["token"] not in json.dumps(event)
    assert survey["status"] == "pending" and survey["engineer_id"] == "E-SH-007"
    assert survey["contact"] == {"contact_name": "张伟", "phone": "13812345678",
                                 "email": "zhangwei@example.cn"}   # the agent may call

    r = http.get(services.url("feedback", f"/api/v1/surveys/{survey['token']}"))  # no key
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["ticket_no"] == event["ticket_no"] and page["status"] == "pending"
    assert any(q["label"] == "总体满意度" for q in page["questions"])

    # an engineer's key sees the status but not the link; another branch sees nothing
    eng = surveys(http, services, event["ticket_no"], key=("SH", "engineer", "E-SH-007"))[0]
    assert "token" not in eng and "contact" not in eng
    assert surveys(http, services, event["ticket_no"], key=("HZ", "agent")) == []

    # a redelivered job_closed (same event) and a second one (new event id) issue nothing
    start = __import__("tests.support.waiting", fromlist=["handled"]).handled(SERVICE, QUEUE)
    again = job_closed(event["ticket_no"])
    publish(services, again)
    publish(services, again)
    wait_handled(SERVICE, QUEUE, start + 2)
    assert len(surveys(http, services, event["ticket_no"])) == 1


def test_a_low_score_opens_a_follow_up_for_the_supervisor(services, watcher, http):
    services.start("feedback")
    _event, survey = issued(services, watcher, http)
    url = services.url("feedback", f"/api/v1/surveys/{survey['token']}")
    count = REGISTRY.get_sample_value("aftersales_csat_score_count", {"branch": "SH"}) or 0
    comment = "师傅态度很好，但等了三天才上门，希望下次快一点。"
    r = http.post(url, data=json.dumps({**GOOD, "response_speed": 2, "overall": 3,
                                        "comment": comment}, ensure_ascii=False).encode("utf-8"),
                  headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status_code == 200, r.text
    assert r.json()["follow_up_required"] is True
    assert REGISTRY.get_sample_value("aftersales_csat_score_count", {"branch": "SH"}) == count + 1

    [opened] = watcher.of_type("follow_up_opened", ticket_no=survey["ticket_no"])
    assert opened["data"]["reasons"] == ["response_speed=2", "overall=3"]
    assert opened["data"]["engineer_id"] == "E-SH-007"
    [answered] = watcher.of_type("survey_answered", ticket_no=survey["ticket_no"])
    assert answered["data"]["follow_up_required"] is True
    [after] = surveys(http, services, survey["ticket_no"])
    assert after["answer"]["comment"] == comment and after["channel"] == "link"

    supervisor = ("SH", "dispatcher")
    fus = call(http, services, "GET", "/api/v1/follow-ups", key=supervisor,
               params={"status": "open"}, expect=200).json()["follow_ups"]
    [fu] = [f for f in fus if f["ticket_no"] == survey["ticket_no"]]
    assert fu["overdue"] is False and fu["reasons"] == ["response_speed=2", "overall=3"]
    assert call(http, services, "GET", "/api/v1/follow-ups", key=("HZ", "dispatcher"),
                expect=200).json()["follow_ups"] == []
    call(http, services, "POST", f"/api/v1/follow-ups/{fu['follow_up_id']}/close",
         key=("SH", "engineer", "E-SH-007"), json={"note": "x"}, expect=403)
    closed = call(http, services, "POST", f"/api/v1/follow-ups/{fu['follow_up_id']}/close",
                  key=supervisor, json={"note": "已回电致歉，客户表示理解"}, expect=200).json()
    assert closed["status"] == "closed" and closed["note"] == "已回电致歉，客户表示理解"
    call(http, services, "POST", f"/api/v1/follow-ups/{fu['follow_up_id']}/close",
         key=supervisor, json={"note": "again"}, expect=409)

    # an agent records a customer's answers given on the phone: same rules, no follow-up here
    _e2, phoned = issued(services, watcher, http)
    path = f"/api/v1/surveys/{phoned['survey_id']}/phone-answer"
    call(http, services, "POST", path, key=("HZ", "agent"), json=GOOD, expect=404)
    call(http, services, "POST", path, key=("SH", "engineer", "E-SH-007"), json=GOOD, expect=403)
    r = call(http, services, "POST", path, json={**GOOD, "comment": "电话回访：满意"}, expect=200)
    assert r.json()["channel"] == "phone" and r.json()["follow_up_required"] is False
    call(http, services, "POST", path, json=GOOD, expect=409)
    assert surveys(http, services, phoned["ticket_no"])[0]["channel"] == "phone"


def test_invalid_answer_names_fields_and_a_second_answer_conflicts(services, watcher, http):
    services.start("feedback")
    _event, survey = issued(services, watcher, http)
    url = services.url("feedback", f"/api/v1/surveys/{survey['token']}")
    r = http.post(url, json={**GOOD, "attitude": 6, "overall": None, "recommend": "ten"})
    assert r.status_code == 422, r.text
    assert {e["field"] for e in r.json()["errors"]} == {"attitude", "overall", "recommend"}
    assert http.post(url, data=b"not json").status_code == 400
    assert http.post(url, json=GOOD).status_code == 200
    assert http.post(url, json=GOOD).status_code == 409
    assert http.get(services.url("feedback", "/api/v1/surveys/no-such-token")).status_code == 404
    assert http.get(services.url("feedback", "/api/v1/surveys"),
                    params={"ticket_no": survey["ticket_no"]}).status_code == 401
    r = http.get(services.url("feedback", "/api/v1/surveys"), headers=auth("SH"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "ticket_no"
    health = http.get(services.url("feedback", "/health")).json()
    assert health["status"] == "ok" and health["service"] == "feedback"
    scraped = http.get(services.url("feedback", "/metrics")).text
    for branch in ("SH", "HZ", "BJ", "GZ"):      # every series from zero, no ticket labels
        assert f'aftersales_csat_score_count{{branch="{branch}"}}' in scraped
        for severity in ("low", "medium", "high"):
            assert f'aftersales_complaints_total{{branch="{branch}",severity="{severity}"}}' in scraped


def test_the_scheduler_reminds_then_expires_an_unanswered_survey(services, watcher, http):
    # days as fractions: a reminder after ~0.4 s, a second after ~0.9 s, expiry after ~1.7 s
    services.start("feedback", survey_valid_days=2e-5, survey_reminder_days="0.000005,0.00001",
                   feedback_scan_interval=0.1)
    event, survey = issued(services, watcher, http)
    first, second = watcher.of_type("survey_reminded", ticket_no=event["ticket_no"], count=2)
    assert [first["data"]["reminder_no"], second["data"]["reminder_no"]] == [1, 2]
    [expired] = watcher.of_type("survey_expired", ticket_no=event["ticket_no"])
    assert expired["data"]["survey_id"] == survey["survey_id"]
    url = services.url("feedback", f"/api/v1/surveys/{survey['token']}")
    assert http.get(url).status_code == 410
    assert http.post(url, json=GOOD).status_code == 410
    [after] = surveys(http, services, event["ticket_no"])
    assert after["status"] == "expired" and after["reminders_sent"] == 2
    # each happened once, though the scheduler kept scanning
    marker = ticket()
    publish(services, ticket_opened(marker))
    publish(services, job_closed(marker))
    watcher.of_type("survey_expired", ticket_no=marker)
    assert len([e for e in watcher.events if e.get("type") in ("survey_reminded", "survey_expired")
                and e.get("ticket_no") == event["ticket_no"]]) == 3
