"""The scheduler's pass and the event handlers on a real SQLite database with an injected
clock: months go by in no time. (No broker: outgoing events are read from the outbox.)"""
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from aftersales.db import make_engine, migrate, session_factory
from aftersales.outbox import make_envelope, outbox
from aftersales.reference import branches
from services.feedback.bootstrap import bus_for
from services.feedback.seed import seed
from services.feedback.service_layer import commands, facts, scan
from services.feedback.service_layer.common import Settings

MIGRATIONS = __import__("pathlib").Path(__file__).resolve().parents[1] / "migrations"
T0 = datetime(2026, 1, 31, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def bus(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'f.db'}")
    migrate(engine, MIGRATIONS)
    sessions = session_factory(engine)
    with sessions() as s:
        seed(s)
        s.commit()
    yield bus_for(sessions, SETTINGS)
    engine.dispose()


SETTINGS = Settings(branches=branches())


def sent(bus, type_=None) -> list[dict]:
    with bus.uow() as uow:
        bodies = [json.loads(b) for (b,) in uow.session.execute(select(outbox.c.body)).all()]
    return [b for b in bodies if type_ is None or b.get("type") == type_]


def close_job(bus, ticket_no, at, **kw):
    env = make_envelope("dispatch", "job_closed", {
        "ticket_no": ticket_no, "engineer_id": "E-SH-007", "priority": "C", "category": "fault",
        "completed_at": at.isoformat(), "signed_off_at": at.isoformat(),
        "closed_at": at.isoformat(), "visits": 1, "rework_count": 0, "first_time_fix": True,
        **kw}, ticket_no=ticket_no, branch="SH")
    return bus.handle_event(env), env


def test_reminders_expiry_and_escalation_over_weeks_each_once(bus, monkeypatch):
    monkeypatch.setattr(facts, "utcnow", lambda: T0)
    close_job(bus, "SH-1", T0)
    assert len(sent(bus, "survey_issued")) == 1
    assert scan.run(bus, T0 + timedelta(days=1)) == {}
    assert scan.run(bus, T0 + timedelta(days=3)) == {"surveys_reminded": 1}
    assert scan.run(bus, T0 + timedelta(days=3, hours=1)) == {}
    assert scan.run(bus, T0 + timedelta(days=7)) == {"surveys_reminded": 1}
    assert scan.run(bus, T0 + timedelta(days=14)) == {"surveys_expired": 1}
    assert scan.run(bus, T0 + timedelta(days=60)) == {}
    assert [e["data"]["reminder_no"] for e in sent(bus, "survey_reminded")] == [1, 2]
    assert len(sent(bus, "survey_expired")) == 1

    from aftersales.auth import Principal
    agent = Principal("k1", "SH", "agent")
    bus.handle(commands.RegisterComplaint(agent, ticket_no="SH-1", branch=None,
                                         severity="high", description="屡修不好", now=T0))
    assert scan.run(bus, T0 + timedelta(hours=23)) == {}
    assert scan.run(bus, T0 + timedelta(hours=24)) == {"complaints_escalated": 1}
    assert scan.run(bus, T0 + timedelta(hours=25)) == {}
    assert scan.run(bus, T0 + timedelta(hours=48)) == {"complaints_escalated": 1}
    assert scan.run(bus, T0 + timedelta(days=30)) == {}   # at the top already
    assert [e["data"]["escalated_to"] for e in sent(bus, "complaint_escalated")] == \
        ["branch_manager", "general_manager"]


def test_a_redelivered_job_closed_schedules_nothing_twice(bus):
    outcome, env = close_job(bus, "SH-2", T0)
    assert bus.handle_event(env) is None      # same event id
    close_job(bus, "SH-2", T0)                                       # a second event
    with bus.uow() as uow:
        visits = uow.visits.list("SH", None, None, "SH-2")
    assert [v.due_at.date().isoformat() for v in visits] == ["2026-02-28", "2026-04-30", "2026-07-31"]
    assert len(sent(bus, "survey_issued")) == 1


def test_plans_run_once_a_year_from_their_lead_time(bus, monkeypatch):
    monkeypatch.setattr(facts, "utcnow", lambda: T0)
    ticket_open = make_envelope("intake", "ticket_opened", {
        "ticket_no": "SH-3", "request_id": "r3", "source": "pc", "channel": "phone",
        "received_at": T0.isoformat(), "priority": "C", "category": "installation",
        "needs_visit": True,
        "customer": {"name": "宝钢", "contact_name": "张伟", "phone": "13812345678"},
        "site": {"address": "上海市宝山区", "contract_no": "HT-3"},
        "asset": {"component": "屋面防水卷材"}, "fault": {"description": "安装"},
        "warranty": {"status": "in_warranty"}}, ticket_no="SH-3", branch="SH")
    bus.handle_event(ticket_open)
    close_job(bus, "SH-3", T0, category="installation")
    # rainy-season roof check (15 May, 30 days' lead) and the annual visit (1 March next year)
    scan.run(bus, T0 + timedelta(days=14))   # the survey's reminders and expiry
    assert scan.run(bus, datetime(2026, 4, 1, tzinfo=timezone.utc)) == {}
    assert scan.run(bus, datetime(2026, 4, 16, tzinfo=timezone.utc)) == \
        {"plan_visits": 1}
    assert scan.run(bus, datetime(2026, 5, 1, tzinfo=timezone.utc)) == {}
    assert scan.run(bus, datetime(2027, 2, 1, tzinfo=timezone.utc)) == \
        {"plan_visits": 1}
    with bus.uow() as uow:
        planned = [v for v in uow.visits.list("SH", None, None, "SH-3") if v.plan_id]
    assert sorted((v.plan_id, v.due_at.date().isoformat()) for v in planned) == [
        ("annual-delivered", "2027-03-01"), ("rainy-season-roof", "2026-05-15")]
