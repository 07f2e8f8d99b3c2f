"""SLA clocks against the real broker and database (SQLite and PostgreSQL), with a short test
policy (targets of seconds) and the timer scanning every 0.2 s."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from prometheus_client import REGISTRY

from aftersales.outbox import make_envelope
from services.dispatch.tests.test_dispatch_integration import publish, ticket_opened
from tests.support.fixtures import auth
from tests.support.waiting import handled, wait_handled, wait_until

pytestmark = pytest.mark.integration

# B tickets: response 2 s, dispatch 3 s, arrival 4 s, resolution 5 s; at risk at 50 % (a
# whole second between at-risk and breach, so a slow tick cannot skip the at-risk)
SHORT = {"at_risk_fraction": 0.5,
         "targets": {"B": {"response": {"seconds": 2}, "dispatch": {"seconds": 3},
                           "arrival": {"seconds": 4}, "resolution": {"seconds": 5}}}}
FAST = dict(sla_policy=SHORT, sla_timer_interval=0.2)
# for the priority change: B 30 s, A 60 s (nothing may breach while the test runs)
CALM = dict(sla_timer_interval=0.2, sla_policy={"targets": {
    p: {s: {"seconds": t} for s in ("response", "dispatch", "arrival", "resolution")}
    for p, t in (("B", 30), ("A", 60))}})


def _now():
    return datetime.now(timezone.utc)


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _sample(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _ticket(n: int) -> str:
    return f"SH-{_now():%Y%m%d}-{int(time.time() * 1000) % 10000:04d}{n}"


def test_breach_within_two_seconds_of_the_deadline_escalated_and_counted_once(services, watcher, http):
    services.start("dispatch", **FAST)
    ticket_no = _ticket(1)
    received = _now()
    labels = dict(stage="response", priority="B", branch="SH")
    breached_before = _sample("aftersales_sla_breached_total", **labels)
    dispatch_labels = dict(labels, stage="dispatch")
    dispatch_before = (_sample("aftersales_sla_breached_total", **dispatch_labels),
                       _sample("aftersales_sla_met_total", **dispatch_labels))
    publish(services.broker_uri, ticket_opened(ticket_no, received_at=received.isoformat()))
    [assigned] = watcher.of_type("engineer_assigned", ticket_no=ticket_no)
    me = auth("SH", "engineer", assigned["data"]["engineer_id"])

    [risk] = watcher.of_type("sla_at_risk", ticket_no=ticket_no, stage="response", timeout=10)
    assert _ts(risk["data"]["deadline"]) == received + timedelta(seconds=2)
    assert _ts(risk["data"]["at_risk_at"]) == received + timedelta(seconds=1)

    [breach] = watcher.of_type("sla_breached", ticket_no=ticket_no, stage="response", timeout=10)
    seen = _now()
    deadline = _ts(breach["data"]["deadline"])
    assert deadline == received + timedelta(seconds=2)
    assert timedelta(0) <= _ts(breach["data"]["breached_at"]) - deadline < timedelta(seconds=2)
    assert seen - deadline < timedelta(seconds=2), f"breach seen {seen - deadline} after the deadline"
    assert breach["data"]["escalation_level"] == "supervisor"
    assert breach["data"]["escalated_to"] == "SH-S001"        # the SH supervisor on the roster
    assert breach["branch"] == "SH" and breach["data"]["priority"] == "B"

    # the engineer accepts after the dispatch deadline passed: breached once, not twice
    watcher.of_type("sla_breached", ticket_no=ticket_no, stage="dispatch", timeout=10)
    r = http.post(services.url("dispatch", f"/api/v1/jobs/{ticket_no}/accept"), json={}, headers=me)
    assert r.status_code == 200, r.text
    [done] = watcher.of_type("sla_stage_completed", ticket_no=ticket_no, stage="dispatch")
    assert done["data"]["met"] is False and done["data"]["target_seconds"] == 3
    # every stage breaches exactly once, none is raised at risk after its breach
    watcher.of_type("sla_breached", ticket_no=ticket_no, stage="resolution", timeout=10)
    breaches = [e["data"]["stage"] for e in watcher.events
                if e.get("type") == "sla_breached" and e.get("ticket_no") == ticket_no]
    assert sorted(breaches) == ["arrival", "dispatch", "resolution", "response"]
    assert _sample("aftersales_sla_breached_total", **labels) == breached_before + 1
    assert (_sample("aftersales_sla_breached_total", **dispatch_labels),
            _sample("aftersales_sla_met_total", **dispatch_labels)) == \
        (dispatch_before[0] + 1, dispatch_before[1])

    view = http.get(services.url("dispatch", f"/api/v1/jobs/{ticket_no}/sla"),
                    headers=auth("SH", "dispatcher")).json()
    states = {c["stage"]: (c["status"], c["state"]) for c in view["clocks"]}
    assert states["dispatch"] == ("breached", "breached")
    assert states["response"] == ("open", "overdue")
    m = http.get(services.url("dispatch", "/metrics")).text
    assert 'aftersales_sla_overdue{branch="SH",priority="B",stage="response"} 1.0' in m
    assert 'aftersales_sla_at_risk{branch="SH",priority="B",stage="response"} 0.0' in m
    assert 'aftersales_sla_met_total{branch="GZ",priority="C",stage="arrival"}' in m   # zeros
    assert ticket_no not in m


def test_stages_met_in_time_with_a_priority_change_and_a_pause(services, watcher, http):
    services.start("dispatch", **CALM)
    ticket_no = _ticket(2)
    received = _now()
    publish(services.broker_uri, ticket_opened(ticket_no, received_at=received.isoformat()))
    [assigned] = watcher.of_type("engineer_assigned", ticket_no=ticket_no)
    # intake changes the priority to A (60 s targets here): deadlines recomputed, history kept
    publish(services.broker_uri, make_envelope("intake", "ticket_reclassified", {
        "ticket_no": ticket_no, "priority": "A", "category": "fault", "previous_priority": "B",
        "previous_category": "fault", "needs_visit": True, "reason": "客户停产，升级特急",
        "by": "agent-7"}, ticket_no=ticket_no, branch="SH"))
    url = services.url("dispatch", f"/api/v1/jobs/{ticket_no}/sla")
    headers = auth("SH", "dispatcher")
    view = wait_until(lambda: (lambda v: v if v["clocks"][0]["priority"] == "A" else None)(
        http.get(url, headers=headers).json()), what="the priority change")
    assert _ts(view["clocks"][0]["due_at"]) == received + timedelta(seconds=60)
    assert [h["priority"] for h in view["history"] if h["stage"] == "response"] == ["B", "A"]
    assert "客户停产" in view["history"][-1]["reason"]

    # waiting on the customer: no deadline while paused; a parts wait is refused as a reason
    pause = services.url("dispatch", f"/api/v1/jobs/{ticket_no}/waiting-on-customer")
    assert http.post(pause, json={"reason": "等备件"}, headers=headers).status_code == 422
    r = http.post(pause, json={"reason": "客户电话无人接听"}, headers=headers)
    assert r.status_code == 200, r.text
    assert all(c["due_at"] is None and c["state"] == "paused" for c in r.json()["clocks"])
    assert http.post(pause, json={"reason": "again"}, headers=headers).status_code == 409
    r = http.post(services.url("dispatch", f"/api/v1/jobs/{ticket_no}/resume"), headers=headers)
    assert r.status_code == 200
    resumed = {c["stage"]: c for c in r.json()["clocks"]}
    assert _ts(resumed["response"]["due_at"]) > received + timedelta(seconds=60)

    publish(services.broker_uri, make_envelope("intake", "customer_contacted", {
        "ticket_no": ticket_no, "contacted_at": _now().isoformat(), "by": "agent-7"},
        ticket_no=ticket_no, branch="SH"))
    [response] = watcher.of_type("sla_stage_completed", ticket_no=ticket_no, stage="response")
    assert response["data"]["met"] is True and response["data"]["priority"] == "A"
    me = auth("SH", "engineer", assigned["data"]["engineer_id"])
    assert http.post(services.url("dispatch", f"/api/v1/jobs/{ticket_no}/accept"),
                     headers=me).status_code == 200
    [dispatched] = watcher.of_type("sla_stage_completed", ticket_no=ticket_no, stage="dispatch")
    assert dispatched["data"]["met"] is True
    assert 0 <= dispatched["data"]["elapsed_seconds"] < 60
    assert not [e for e in watcher.events if e.get("type") == "sla_breached"
                and e.get("ticket_no") == ticket_no]


def test_a_restart_with_deadlines_pending_misses_none(services, watcher, http):
    services.start("dispatch", **FAST)
    tickets = [_ticket(n) for n in (3, 4)]
    received = _now()
    for no in tickets:
        publish(services.broker_uri, ticket_opened(no, received_at=received.isoformat()))
    for no in tickets:
        watcher.of_type("engineer_assigned", ticket_no=no)
    services.stop("dispatch")
    # every deadline (the last at received + 5 s) passes while dispatch is down
    wait_until(lambda: _now() > received + timedelta(seconds=5.5), timeout=20,
               what="the deadlines to pass with dispatch stopped")
    assert not [e for e in watcher.events if e.get("type") == "sla_breached"
                and e.get("ticket_no") in tickets and e["data"]["stage"] == "resolution"]
    services.start("dispatch", seed=False, **FAST)
    found = watcher.wait_for(lambda e: e.get("type") == "sla_breached"
                             and e.get("ticket_no") in tickets, count=8, timeout=15)
    pairs = sorted((e["ticket_no"], e["data"]["stage"]) for e in found)
    assert pairs == sorted((no, s) for no in tickets
                           for s in ("response", "dispatch", "arrival", "resolution"))
    # a later tick raises nothing again: no duplicates
    later = _ticket(5)
    publish(services.broker_uri, ticket_opened(later, received_at=_now().isoformat()))
    watcher.of_type("sla_breached", ticket_no=later, stage="response", timeout=10)
    again = [e for e in watcher.events if e.get("type") == "sla_breached" and e.get("ticket_no") in tickets]
    assert len(again) == 8


def test_events_that_overtake_the_opening_are_applied_when_the_job_opens(services, watcher, http):
    services.start("dispatch", **CALM)
    ticket_no, cancelled = _ticket(6), _ticket(7)
    received = _now()
    uri = services.broker_uri
    before = handled("dispatch", "aftersales.dispatch.events")
    # contact and a priority change reach dispatch before the ticket_opened (e.g. a retry)
    publish(uri, make_envelope("intake", "ticket_reclassified", {
        "ticket_no": ticket_no, "priority": "A", "category": "fault", "previous_priority": "B",
        "previous_category": "fault", "needs_visit": True, "reason": "停产", "by": "agent-7"},
        ticket_no=ticket_no, branch="SH"))
    publish(uri, make_envelope("intake", "customer_contacted", {     # after the change: A
        "ticket_no": ticket_no, "contacted_at": _now().isoformat(), "by": "agent-7"},
        ticket_no=ticket_no, branch="SH"))
    publish(uri, make_envelope("intake", "ticket_cancelled", {
        "ticket_no": cancelled, "cancelled_at": received.isoformat(), "reason": "客户取消",
        "by": "agent-7"}, ticket_no=cancelled, branch="SH"))
    wait_handled("dispatch", "aftersales.dispatch.events", before + 3)
    publish(uri, ticket_opened(cancelled, received_at=received.isoformat()))
    publish(uri, ticket_opened(ticket_no, received_at=received.isoformat()))
    [done] = watcher.of_type("sla_stage_completed", ticket_no=ticket_no, stage="response")
    assert done["data"]["met"] is True and done["data"]["priority"] == "A"
    headers = auth("SH", "dispatcher")
    job = http.get(services.url("dispatch", f"/api/v1/jobs/{ticket_no}"), headers=headers).json()
    assert job["priority"] == "A" and job["sla"]["clocks"][1]["priority"] == "A"
    assert http.get(services.url("dispatch", f"/api/v1/jobs/{cancelled}"),
                    headers=headers).status_code == 404
    assert not [e for e in watcher.events if e.get("ticket_no") == cancelled
                and e.get("source") == "dispatch"]
