"""Two feedback instances (each its own engine and bus) running their schedulers at once on
one PostgreSQL database: every reminder, expiry, escalation and plan run happens once, and a
row another transaction holds is skipped, not waited for (FOR UPDATE SKIP LOCKED). No
broker: outgoing events are read from the outbox."""
import json
import threading
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event, func, select

from aftersales.auth import Principal
from aftersales.db import make_engine, session_factory
from aftersales.outbox import make_envelope, outbox
from aftersales.reference import branches
from services.feedback.adapters.orm import complaints, plan_runs, surveys, visit_plans, visits
from services.feedback.bootstrap import bus_for
from services.feedback.service_layer import commands, facts, scan
from services.feedback.service_layer.common import Settings
from tests.support.fixtures import migrated_database

pytestmark = pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)

SETTINGS = Settings(branches=branches())
T0 = datetime(2025, 12, 20, 2, 0, tzinfo=timezone.utc)    # jobs closed (surveys issued)
REMIND_AT = T0 + timedelta(days=3)                          # reminder 1 of every survey due
LATER = datetime(2026, 2, 10, 2, 0, tzinfo=timezone.utc)    # expiry, escalation, annual plan
SURVEYS, COMPLAINTS = 200, 40
PLAN = "annual-delivered"   # 1 March, 30 days' lead: last year's jobs, one visit each


def _engine(url):
    """An instance's engine; a lock wait longer than 10 s is an error (a scheduler that
    waits on another's row fails the test instead of hanging it)."""
    engine = make_engine(url)

    @event.listens_for(engine, "connect")
    def _lock_timeout(dbapi_conn, _record):
        with dbapi_conn.cursor() as cur:
            cur.execute("SET lock_timeout = '10s'")
        dbapi_conn.commit()
    return engine


@pytest.fixture
def url(database_urls, monkeypatch):
    """Feedback's database with SURVEYS closed jobs of last year (a survey each) and
    COMPLAINTS complaints overdue at LATER."""
    url = database_urls["feedback"]
    with migrated_database(url, "feedback", seed=True) as (_, sessions):
        bus = bus_for(sessions, SETTINGS)
        monkeypatch.setattr(facts, "utcnow", lambda: T0)
        for i in range(SURVEYS):
            ticket = f"SH-20251220-{i:06d}"
            at = T0.isoformat()
            bus.handle_event(make_envelope("dispatch", "job_closed", {
                "ticket_no": ticket, "engineer_id": "E-SH-007", "priority": "C",
                "category": "fault", "completed_at": at, "signed_off_at": at, "closed_at": at,
                "visits": 1, "rework_count": 0, "first_time_fix": True},
                ticket_no=ticket, branch="SH"))
        agent = Principal("k1", "SH", "agent")
        for i in range(COMPLAINTS):
            bus.handle(commands.RegisterComplaint(
                agent, ticket_no=f"SH-20251220-{i:06d}", branch=None, severity="high",
                description="屡修不好", now=LATER - timedelta(days=2)))
        yield url


def _both(url, now) -> list[dict]:
    """scan.run(now) in two threads, each its own engine and bus, started together; what
    each did. Any exception of either is raised here."""
    barrier, results, errors = threading.Barrier(2), {}, []

    def run(name):
        engine = _engine(url)
        try:
            bus = bus_for(session_factory(engine), SETTINGS)
            barrier.wait(30)
            results[name] = scan.run(bus, now)
        except BaseException as e:   # noqa: BLE001 - reported by the test
            errors.append(e)
        finally:
            engine.dispose()
    threads = [threading.Thread(target=run, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a scheduler did not finish"
    if errors:
        raise errors[0]
    return [results["a"], results["b"]]


def _sent(url, type_) -> list[dict]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            bodies = [json.loads(b) for (b,) in conn.execute(select(outbox.c.body))]
    finally:
        engine.dispose()
    return [b["data"] for b in bodies if b.get("type") == type_]


def _count(url, query) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(query).scalar_one()
    finally:
        engine.dispose()


def _total(done: list[dict], kind: str) -> int:
    return sum(d.get(kind, 0) for d in done)


def test_two_schedulers_at_once_raise_each_reminder_expiry_escalation_and_plan_once(url):
    done = _both(url, REMIND_AT)
    assert _total(done, "surveys_reminded") == SURVEYS
    reminded = Counter((d["survey_id"], d["reminder_no"]) for d in _sent(url, "survey_reminded"))
    assert len(reminded) == SURVEYS and set(reminded.values()) == {1}

    done = _both(url, LATER)
    assert _total(done, "surveys_expired") == SURVEYS
    assert _total(done, "complaints_escalated") == COMPLAINTS
    assert _total(done, "plan_visits") == SURVEYS
    expired = Counter(d["survey_id"] for d in _sent(url, "survey_expired"))
    assert len(expired) == SURVEYS and set(expired.values()) == {1}
    escalated = Counter(d["complaint_id"] for d in _sent(url, "complaint_escalated"))
    assert len(escalated) == COMPLAINTS and set(escalated.values()) == {1}
    assert _count(url, select(func.count()).select_from(complaints).where(
        complaints.c.escalation_level == 1)) == COMPLAINTS
    assert _count(url, select(func.count()).select_from(visits).where(
        visits.c.plan_id == PLAN)) == SURVEYS
    assert _count(url, select(func.sum(plan_runs.c.visits)).where(
        plan_runs.c.plan_id == PLAN)) == SURVEYS
    assert _both(url, LATER) == [{}, {}]    # nothing is due twice


def test_a_row_another_instance_holds_is_skipped_not_waited_for(url):
    """Another instance's transaction holds one survey, one complaint and the plan: this
    scheduler's pass does all the rest without waiting (SKIP LOCKED; a wait would end in the
    lock timeout), and the next pass, once they are free, does those once."""
    holder = make_engine(url)
    mine = _engine(url)
    try:
        bus = bus_for(session_factory(mine), SETTINGS)
        with holder.connect() as other:
            other.begin()
            held_survey = other.execute(select(surveys.c.survey_id).order_by(
                surveys.c.next_due_at, surveys.c.survey_id).limit(1).with_for_update()).scalar()
            other.execute(select(complaints.c.complaint_id).limit(1).with_for_update())
            other.execute(select(visit_plans.c.plan_id).where(visit_plans.c.plan_id == PLAN)
                          .with_for_update())
            assert scan.run(bus, REMIND_AT) == {"surveys_reminded": SURVEYS - 1}
            assert held_survey not in {d["survey_id"] for d in _sent(url, "survey_reminded")}
            assert scan.run(bus, LATER) == {"surveys_expired": SURVEYS - 1,
                                            "complaints_escalated": COMPLAINTS - 1}
            other.rollback()
        assert scan.run(bus, LATER) == {"surveys_expired": 1, "complaints_escalated": 1,
                                        "plan_visits": SURVEYS}
        assert scan.run(bus, LATER) == {}
        expired = Counter(d["survey_id"] for d in _sent(url, "survey_expired"))
        assert len(expired) == SURVEYS and set(expired.values()) == {1}
    finally:
        mine.dispose()
        holder.dispose()
