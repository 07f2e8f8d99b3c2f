"""What dispatch's routes answer matches its OpenAPI document, for real jobs (which the
Schemathesis run cannot reach: jobs open from intake's events): a paid job driven through
every step, with parts requests, a pause, a rework and the reads, each answer validated
against the route's documented schema as served (JSON). And the bad inputs that were a 500
are a 422 naming the field. Dispatch's use cases against the real database, no broker."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from jsonschema import Draft202012Validator

from aftersales.auth import Principal
from aftersales.contracts.envelope import utcnow
from aftersales.errors import InvalidInput
from aftersales.openapi import document
from aftersales.outbox import make_envelope
from aftersales.web import json_response
from services.dispatch.adapters.policies import PolicyBook
from services.dispatch.adapters.repository import DispatchUnitOfWork
from services.dispatch.bootstrap import bus_for
from services.dispatch.service import DispatchService
from services.dispatch.service_layer import commands as c
from services.dispatch.service_layer import views
from services.dispatch.tests.test_dispatch_integration import ticket_opened
from tests.support.fixtures import migrated_database

TICKET = "SH-20261202-0101"
DISPATCHER = Principal("key-d", "SH", "dispatcher")
MANAGER = Principal("key-m", "SH", "manager")
AGENT = Principal("key-a", "SH", "agent")
HQ = Principal("key-hq", "HQ", "admin")
DOC = document(DispatchService)


@pytest.fixture
def factory(database_urls):
    with migrated_database(database_urls["dispatch"], "dispatch", seed=True) as (_, f):
        yield f


def answers(method: str, path: str, view, status: str = "200") -> dict:
    """``view`` as the route serves it, validated against the route's documented schema."""
    body = json.loads(json_response(int(status), view).get_data())
    schema = DOC["paths"][path][method.lower()]["responses"][status]["content"][
        "application/json"]["schema"]
    errors = list(Draft202012Validator({**schema, "components": DOC["components"]})
                  .iter_errors(body))
    assert not errors, f"{method} {path}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5])
    return body


def step(bus, principal, command, body=None, suffix="") -> dict:
    view = bus.handle(command(principal, TICKET, body or {}))
    return answers("POST", f"/api/v1/jobs/{{ticket_no}}/{suffix}", view)


def parts_event(type_: str, **data):
    return make_envelope("parts", type_, {"request_id": "PR-0101", "ticket_no": TICKET, **data},
                         ticket_no=TICKET, branch="SH")


def test_a_paid_job_answers_what_the_document_says_at_every_step(factory):
    bus = bus_for(factory, policies=PolicyBook({}))
    bus.handle_event(ticket_opened(TICKET, warranty={"status": "expired",
                                                     "ends_on": "2024-06-18",
                                                     "component_category": "main_structure"}))
    uow = lambda: DispatchUnitOfWork(factory, "dispatch")   # noqa: E731
    job = answers("GET", "/api/v1/jobs/{ticket_no}", views.get_job(uow(), HQ, TICKET))
    first = job["engineer_id"]
    other = next(e["engineer_id"] for e in job["assignments"][0]["ranking"]
                 if e["engineer_id"] != first)
    job = step(bus, DISPATCHER, c.AssignJob, {"engineer_id": other, "reason": "李强请假，改派"},
               "assign")
    me = Principal("key-e", "SH", "engineer", engineer_id=other)
    step(bus, me, c.DeclineJob, {"reason": "今天赶不到浦东"}, "decline")
    assert step(bus, DISPATCHER, c.AssignJob, {"engineer_id": other, "reason": "只有他有空"},
                "assign")["engineer_id"] == other
    step(bus, me, c.AcceptJob, {}, "accept")
    start = utcnow() + timedelta(hours=2)
    job = step(bus, me, c.SetAppointment, {"window_from": start.isoformat(),
                                           "window_to": (start + timedelta(hours=2)).isoformat(),
                                           "note": "小区东门登记"}, "appointment")
    assert job["appointment"]["from"]
    step(bus, me, c.SetOut, {"eta": start.isoformat()}, "en-route")
    step(bus, me, c.CheckIn, {}, "check-in")
    step(bus, me, c.ReportProgress, {"progress": "已拆除旧防水层", "percent": 40}, "reports")
    step(bus, me, c.RequestParts, {"lines": [{"sku": "GJ-LT-C160", "quantity": 3}]},
         "parts-requests")
    now = utcnow()
    bus.handle_event(parts_event(
        "parts_request_approved", in_warranty=False, approved_by="mgr-key", auto_approved=False,
        approved_at=now.isoformat(), total="168.00", chargeable_total="168.00",
        lines=[{"sku": "GJ-LT-C160", "name": "屋面檩条 C型钢", "unit": "米", "quantity": 3,
                "unit_price": "56.00", "line_total": "168.00"}]))
    bus.handle_event(parts_event(
        "parts_backordered", warehouse="SH-WH", expected_at=(now + timedelta(days=3)).isoformat(),
        lines=[{"backorder_id": "BO-1", "sku": "GJ-LT-C160", "quantity": 3,
                "lead_time_days": 3, "expected_at": (now + timedelta(days=3)).isoformat()}]))
    step(bus, me, c.Diagnose, {"cause": "workmanship", "responsibility": "施工单位"}, "diagnosis")
    job = step(bus, me, c.IssueQuote, {"labour": "300.00", "travel": "50.00"}, "quote")
    assert job["quote"]["materials"] == "168.00" and job["parts_requests"][0]["backorders"]
    job = step(bus, AGENT, c.DecideQuote, {"approved": True}, "quote/decision")
    assert job["quote"]["decided_by"]
    sla = bus.handle(c.WaitOnCustomer(AGENT, TICKET, {"reason": "客户电话无人接听"}))
    answers("POST", "/api/v1/jobs/{ticket_no}/waiting-on-customer", sla)
    answers("POST", "/api/v1/jobs/{ticket_no}/resume", bus.handle(c.Resume(AGENT, TICKET)))
    step(bus, me, c.CompleteJob, {"summary": "更换檩条", "parts_used": [
        {"sku": "GJ-LT-C160", "quantity": 3, "serial_no": "SN-1"}]}, "complete")
    step(bus, AGENT, c.SignOff, {"accepted": False, "reason": "仍有渗水"}, "sign-off")
    job = answers("GET", "/api/v1/jobs/{ticket_no}", views.get_job(uow(), HQ, TICKET))
    assert job["status"] == "rework" and job["reports"] and job["sla"]["pauses"]
    answers("GET", "/api/v1/jobs/{ticket_no}/sla", views.get_sla(uow(), HQ, TICKET))
    assert answers("GET", "/api/v1/jobs", views.list_jobs(uow(), HQ, {}))["count"] == 1
    board = answers("GET", "/api/v1/board", views.board(uow(), DISPATCHER, {}))
    assert board["jobs"] and board["engineers"]
    roster = answers("GET", "/api/v1/engineers", views.list_engineers(uow(), DISPATCHER, {}))
    assert roster["engineers"][0]["open_jobs"] is not None
    answers("GET", "/api/v1/engineers", views.list_engineers(uow(), HQ, {}))


def test_the_roster_answers_what_the_document_says(factory):
    bus = bus_for(factory, policies=PolicyBook({}))
    body = {"name": "赵敏", "branch": "SH", "skills": ["fault:3", "maintenance"],
            "zone": "浦东新区", "shift": "mon-fri 08:30-17:30", "leave": "2026-12-24"}
    status, view = bus.handle(c.PutEngineer(MANAGER, "SH-E901", body))
    assert status == 201
    answers("PUT", "/api/v1/engineers/{engineer_id}", view)
    view = bus.handle(c.AddLeave(MANAGER, "SH-E901", {"from": "2026-12-28", "to": "2026-12-29"}))
    assert len(answers("POST", "/api/v1/engineers/{engineer_id}/leave", view)["leave"]) == 2


# -- bad input that was a 500 (or a 400 not naming the field): now a 422 naming it ------------
def fields(exc) -> set[str]:
    return {e["field"] for e in exc.value.errors}


def test_leave_whose_instants_do_not_exist_in_utc_is_refused_by_name(factory):
    """Was a 500: 0001-01-01 (+08:00) is before the first UTC instant, 9999-12-31's next day
    does not exist; and stored, the first one made every read of the roster fail."""
    bus = bus_for(factory, policies=PolicyBook({}))
    for day in ("0001-01-01", "9999-12-31"):
        with pytest.raises(InvalidInput) as exc:
            bus.handle(c.AddLeave(MANAGER, "SH-E001", {"from": day}))
        assert fields(exc) == {"from"}
        with pytest.raises(InvalidInput) as exc:
            bus.handle(c.PutEngineer(MANAGER, "SH-E902", {"name": "赵敏", "branch": "SH",
                                                          "leave": day}))
        assert fields(exc) == {"leave"}
    answers("GET", "/api/v1/engineers", views.list_engineers(
        DispatchUnitOfWork(factory, "dispatch"), DISPATCHER, {}))


def test_a_max_jobs_beyond_a_database_integer_is_refused_by_name(factory):
    """Was a 500: SQLite cannot store 10**29 (a 30-digit JSON number is within the bounds)."""
    bus = bus_for(factory, policies=PolicyBook({}))
    with pytest.raises(InvalidInput) as exc:
        bus.handle(c.PutEngineer(MANAGER, "SH-E903", {"name": "赵敏", "branch": "SH",
                                                      "max_jobs": 10 ** 29}))
    assert fields(exc) == {"max_jobs"}


def test_an_appointment_without_a_utc_offset_or_out_of_range_is_refused_by_name(factory):
    """Was a 500: a naive window cannot be compared with an aware one nor stored; year 1 at
    +08:00 has no UTC instant."""
    bus = bus_for(factory, policies=PolicyBook({}))
    bus.handle_event(ticket_opened(TICKET))
    for bad in ("2026-12-03T09:00:00", "0001-01-01T00:00:00+08:00"):
        with pytest.raises(InvalidInput) as exc:
            bus.handle(c.SetAppointment(HQ, TICKET, {"window_from": bad,
                                                     "window_to": "2026-12-03T11:00:00+08:00"}))
        assert fields(exc) == {"window_from"}
    with pytest.raises(InvalidInput) as exc:
        bus.handle(c.SetOut(HQ, TICKET, {"eta": "2026-12-03T09:00:00"}))
    assert fields(exc) == {"eta"}


def test_a_parts_line_the_parts_requested_event_cannot_carry_is_refused_by_name(factory):
    """Was a 400 naming only ``(body)``: the body took any SKU and quantity, the event (sku ≤ 40
    characters, quantity ≤ 10000) refused them when it was published."""
    bus = bus_for(factory, policies=PolicyBook({}))
    bus.handle_event(ticket_opened(TICKET))
    with pytest.raises(InvalidInput) as exc:
        bus.handle(c.RequestParts(HQ, TICKET, {"lines": [{"sku": "X" * 41, "quantity": 20000}]}))
    assert fields(exc) == {"lines.0.sku", "lines.0.quantity"}
