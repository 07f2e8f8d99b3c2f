"""Helpers for feedback's integration tests: events as intake, dispatch and parts publish
them, and HTTP calls with the right keys."""
from __future__ import annotations

import uuid
from datetime import datetime

from aftersales.clock import utcnow
from aftersales.outbox import make_envelope
from tests.support.broker import publish_event
from tests.support.data import repair_request, ticket_opened  # noqa: F401
from tests.support.fixtures import auth

SERVICE = "feedback"
QUEUE = "aftersales.feedback.events"
GOOD = {"response_speed": 5, "attitude": 5, "professionalism": 4, "effectiveness": 4,
        "communication": 5, "overall": 5, "recommend": 9}


def ticket(branch="SH") -> str:
    return f"{branch}-20261122-{uuid.uuid4().int % 1_000_000:06d}"


def now() -> datetime:
    return utcnow()   # the platform clock: the one a test may have set


def job_closed(ticket_no, branch="SH", engineer_id="E-SH-007", at=None, first_time_fix=True,
               rework_count=0, category="fault"):
    at = (at or now()).isoformat()
    return make_envelope("dispatch", "job_closed", {
        "ticket_no": ticket_no, "engineer_id": engineer_id, "priority": "C",
        "category": category, "completed_at": at, "signed_off_at": at, "closed_at": at,
        "visits": 1 if first_time_fix else 2, "rework_count": rework_count,
        "first_time_fix": first_time_fix}, ticket_no=ticket_no, branch=branch, occurred_at=None)


def job_diagnosed(ticket_no, cause, branch="SH", at=None, engineer_id="E-SH-007"):
    return make_envelope("dispatch", "job_diagnosed", {
        "ticket_no": ticket_no, "engineer_id": engineer_id, "cause": cause,
        "responsibility": "company", "chargeable": False,
        "diagnosed_at": (at or now()).isoformat()}, ticket_no=ticket_no, branch=branch)


def sla_completed(ticket_no, stage, met, branch="SH", at=None):
    at = at or now()
    return make_envelope("dispatch", "sla_stage_completed", {
        "ticket_no": ticket_no, "stage": stage, "priority": "C", "deadline": at.isoformat(),
        "completed_at": at.isoformat(), "elapsed_seconds": 3600.0, "target_seconds": 7200.0,
        "met": met}, ticket_no=ticket_no, branch=branch)


def parts_consumed(ticket_no, lines, branch="SH", at=None):
    return make_envelope("parts", "parts_consumed", {
        "ticket_no": ticket_no, "warehouse": branch,
        "lines": [{"sku": s, "quantity": q} for s, q in lines]},
        ticket_no=ticket_no, branch=branch, occurred_at=at)


def publish(services, env) -> None:
    publish_event(services.broker_uri, env)


def call(http, services, method, path, key=("SH", "agent"), expect=None, **kw):
    r = http.request(method, services.url("feedback", path), headers=auth(*key), **kw)
    if expect is not None:
        assert r.status_code == expect, f"{method} {path}: {r.status_code} {r.text}"
    return r


def surveys(http, services, ticket_no, key=("SH", "agent")) -> list[dict]:
    return call(http, services, "GET", "/api/v1/surveys", key=key,
                params={"ticket_no": ticket_no}, expect=200).json()["surveys"]


def issued(services, watcher, http, branch="SH", **closed) -> tuple[dict, dict]:
    """A closed job (with its ticket) and the survey it issued: (event, staff view)."""
    ticket_no = ticket(branch)
    publish(services, ticket_opened(ticket_no, branch))
    publish(services, job_closed(ticket_no, branch, **closed))
    [event] = watcher.of_type("survey_issued", ticket_no=ticket_no)
    [survey] = surveys(http, services, ticket_no, key=(branch, "agent"))
    return event, survey
