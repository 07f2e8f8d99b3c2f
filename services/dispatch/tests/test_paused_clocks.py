"""A ticket waiting on the customer is never at risk or overdue — not in the scrape-time gauges,
not on the board, not in the job's SLA view — even when its at-risk mark or its deadline was
reached before the pause; after the pause it counts again. Dispatch's use cases against the
real database (SQLite and PostgreSQL), with fixed times (no broker needed)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from aftersales.auth import Principal
from services.dispatch.adapters.policies import PolicyBook
from services.dispatch.adapters.repository import DispatchUnitOfWork
from services.dispatch.bootstrap import bus_for
from services.dispatch.service_layer import commands, gauges, views
from services.dispatch.tests.test_dispatch_integration import ticket_opened
from tests.support.fixtures import migrated_database

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)   # B: response due T0+1h, at risk T0+48min
AGENT = Principal("key-a", "SH", "agent")
DISPATCHER = Principal("key-d", "SH", "dispatcher")
POLICIES = PolicyBook({})


def minutes(m: float) -> datetime:
    return T0 + timedelta(minutes=m)


@pytest.fixture
def factory(database_urls):
    with migrated_database(database_urls["dispatch"], "dispatch", seed=True) as (_, f):
        yield f


def uow(f):
    return DispatchUnitOfWork(f, "dispatch")


def open_ticket(f, ticket_no: str) -> None:
    bus_for(f, policies=POLICIES).handle_event(ticket_opened(ticket_no, received_at=T0.isoformat()))


def response_gauges(f, at: datetime) -> tuple[float, float]:
    with f() as s:
        risk, over = gauges.sla_gauges(s, {}, ["SH"], now=at)
    key = ("response", "B", "SH")
    return dict(risk[3])[key], dict(over[3])[key]


def board_states(f, at: datetime) -> dict:
    view = views.board(uow(f), DISPATCHER, {}, now=at)
    return {(a["ticket_no"], a["stage"]): a["state"] for a in view["attention"]}


def test_a_clock_paused_after_its_at_risk_mark_is_not_at_risk(factory):
    open_ticket(factory, "SH-20261123-0001")
    assert response_gauges(factory, minutes(50)) == (1, 0)        # past 48 min: at risk
    view = bus_for(factory, policies=POLICIES).handle(commands.WaitOnCustomer(
        AGENT, "SH-20261123-0001", {"reason": "客户电话无人接听"}, now=minutes(50)))
    response = next(c for c in view["clocks"] if c["stage"] == "response")
    assert response["state"] == "paused" and response["at_risk_at"] is not None   # mark kept
    assert response_gauges(factory, minutes(55)) == (0, 0)
    assert response_gauges(factory, minutes(600)) == (0, 0)       # however long it waits
    assert board_states(factory, minutes(55)) == {}
    # resumed at 60 min: 10 of the 60 minutes are left, due at 70 min, at risk again
    bus_for(factory, policies=POLICIES).handle(commands.Resume(AGENT, "SH-20261123-0001",
                                                               now=minutes(60)))
    assert response_gauges(factory, minutes(65)) == (1, 0)
    assert board_states(factory, minutes(71))[("SH-20261123-0001", "response")] == "overdue"


def test_a_clock_paused_after_its_deadline_keeps_it_but_is_not_overdue(factory):
    open_ticket(factory, "SH-20261123-0002")
    assert response_gauges(factory, minutes(70)) == (0, 1)
    view = bus_for(factory, policies=POLICIES).handle(commands.WaitOnCustomer(
        AGENT, "SH-20261123-0002", {"reason": "现场无法进入"}, now=minutes(70)))
    response = next(c for c in view["clocks"] if c["stage"] == "response")
    assert response["due_at"] == minutes(60).isoformat()           # a passed deadline stays
    assert response["state"] == "paused"
    assert response_gauges(factory, minutes(75)) == (0, 0)
    assert ("SH-20261123-0002", "response") not in board_states(factory, minutes(75))
    bus_for(factory, policies=POLICIES).handle(commands.Resume(AGENT, "SH-20261123-0002",
                                                               now=minutes(80)))
    assert response_gauges(factory, minutes(81)) == (0, 1)
