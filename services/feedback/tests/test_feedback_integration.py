"""Feedback against the real broker and database (SQLite and PostgreSQL)."""
import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from prometheus_client import REGISTRY

from aftersales.outbox import make_envelope
from tests.support.broker import publish_raw
from tests.support.fixtures import auth
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

SERVICE = "feedback"
QUEUE = f"aftersales.{SERVICE}.events"
GOOD = {"response_speed": 5, "attitude": 5, "professionalism": 4, "effectiveness": 4,
        "communication": 5, "overall": 5, "recommend": 9}


def job_completed(branch="SH"):
    ticket_no = f"{branch}-20261122-{uuid.uuid4().int % 1_000_000:06d}"
    return make_envelope("dispatch", "job_completed", {
        "ticket_no": ticket_no, "engineer_id": "E-SH-007",
        "completed_at": "2026-11-23T16:05:00+08:00", "summary": "更换锈蚀檩条，屋面补漏完成",
        "parts_used": [],
    }, ticket_no=ticket_no, branch=branch)


def publish(uri, env):
    publish_raw(uri, "dispatch.events", "job_completed",
                json.dumps(env.to_json_dict(), ensure_ascii=False).encode("utf-8"))


def handled() -> float:
    return sum(REGISTRY.get_sample_value("aftersales_messages_handled_total",
                                         {"service": SERVICE, "queue": QUEUE, "outcome": o}) or 0
               for o in ("ok", "duplicate"))


def wait_handled(target: float) -> None:
    wait_until(lambda: handled() >= target, what=f"{SERVICE} to acknowledge {target} message(s)")


def surveys(http, services, ticket_no, branch="SH", role="agent"):
    r = http.get(services.url("feedback", "/api/v1/surveys"), params={"ticket_no": ticket_no},
                 headers=auth(branch, role, "E-SH-007" if role == "engineer" else None))
    assert r.status_code == 200, r.text
    return r.json()["surveys"]


def issued(services, watcher, http):
    env = job_completed()
    publish(services.broker_uri, env)
    [event] = watcher.of_type("survey_issued", ticket_no=env.ticket_no)
    [survey] = surveys(http, services, env.ticket_no)
    return event, survey


def test_job_completed_issues_a_survey_whose_token_stays_secret(services, watcher, http):
    services.start("feedback")
    event, survey = issued(services, watcher, http)
    assert event["source"] == "feedback" and event["branch"] == "SH"
    assert event["data"]["survey_id"] == survey["survey_id"]
    expires = datetime.fromisoformat(event["data"]["expires_at"])
    assert abs(expires - datetime.now(timezone.utc) - timedelta(days=14)) < timedelta(minutes=5)
    assert survey["token"] not in json.dumps(event)
    assert survey["status"] == "pending" and survey["engineer_id"] == "E-SH-007"

    r = http.get(services.url("feedback", f"/api/v1/surveys/{survey['token']}"))  # no key
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["ticket_no"] == event["ticket_no"] and page["status"] == "pending"
    assert {q["field"] for q in page["questions"]} >= {"overall", "recommend", "comment"}
    assert any(q["label"] == "总体满意度" for q in page["questions"])

    # an engineer's key sees the status but not the link; another branch sees nothing
    assert "token" not in surveys(http, services, event["ticket_no"], role="engineer")[0]
    assert surveys(http, services, event["ticket_no"], branch="HZ") == []
    assert surveys(http, services, event["ticket_no"], branch="HQ", role="manager")[0]["token"]


def test_redelivered_job_completed_issues_one_survey(services, watcher, http):
    services.start("feedback")
    start = handled()
    env = job_completed()
    publish(services.broker_uri, env)
    publish(services.broker_uri, env)
    wait_handled(start + 2)
    watcher.of_type("survey_issued", ticket_no=env.ticket_no)
    assert len(surveys(http, services, env.ticket_no)) == 1
    marker = job_completed()   # published after: once it is out, the relay has caught up
    publish(services.broker_uri, marker)
    watcher.of_type("survey_issued", ticket_no=marker.ticket_no)
    assert len([e for e in watcher.events if e.get("type") == "survey_issued"
                and e["ticket_no"] == env.ticket_no]) == 1


def test_customer_answers_in_chinese_and_a_low_score_flags_a_follow_up(services, watcher, http):
    services.start("feedback")
    _event, survey = issued(services, watcher, http)
    url = services.url("feedback", f"/api/v1/surveys/{survey['token']}")
    count = REGISTRY.get_sample_value("aftersales_csat_score_count", {"branch": "SH"}) or 0
    comment = "师傅态度很好，但等了三天才上门，希望下次快一点。"
    r = http.post(url, data=json.dumps({**GOOD, "response_speed": 2, "overall": 3,
                                        "comment": comment}, ensure_ascii=False).encode("utf-8"),
                  headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "answered"
    assert REGISTRY.get_sample_value("aftersales_csat_score_count", {"branch": "SH"}) == count + 1

    [after] = surveys(http, services, survey["ticket_no"])
    assert after["status"] == "answered" and after["follow_up_required"] is True
    assert after["answer"]["comment"] == comment
    assert after["answer"]["overall"] == 3 and after["answer"]["recommend"] == 9
    assert http.get(url).json()["status"] == "answered"


def test_invalid_answer_names_fields_and_a_second_answer_conflicts(services, watcher, http):
    services.start("feedback")
    _event, survey = issued(services, watcher, http)
    url = services.url("feedback", f"/api/v1/surveys/{survey['token']}")
    r = http.post(url, json={**GOOD, "attitude": 6, "overall": None, "recommend": "ten"})
    assert r.status_code == 422, r.text
    assert {e["field"] for e in r.json()["errors"]} == {"attitude", "overall", "recommend"}
    assert http.post(url, data=b"not json").status_code == 400

    assert http.post(url, json=GOOD).status_code == 200
    r = http.post(url, json=GOOD)
    assert r.status_code == 409, r.text
    [after] = surveys(http, services, survey["ticket_no"])
    assert after["follow_up_required"] is False

    assert http.get(services.url("feedback", "/api/v1/surveys/no-such-token")).status_code == 404
    assert http.post(services.url("feedback", "/api/v1/surveys/no-such-token"),
                     json=GOOD).status_code == 404
    assert http.get(services.url("feedback", "/api/v1/surveys"),
                    params={"ticket_no": survey["ticket_no"]}).status_code == 401
    r = http.get(services.url("feedback", "/api/v1/surveys"), headers=auth("SH"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "ticket_no"
    health = http.get(services.url("feedback", "/health")).json()
    assert health["status"] == "ok" and health["service"] == "feedback"


def test_expired_survey_is_gone(services, watcher, http):
    services.start("feedback", survey_valid_days=0)
    _event, survey = issued(services, watcher, http)
    assert survey["status"] == "expired"
    url = services.url("feedback", f"/api/v1/surveys/{survey['token']}")
    assert http.get(url).status_code == 410
    assert http.post(url, json=GOOD).status_code == 410
