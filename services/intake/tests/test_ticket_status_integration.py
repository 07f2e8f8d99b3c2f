"""The ticket's status follows the job's latest state (declines, escalations, reassignments),
resolution works after an escalation, and an agent's action committed while a workflow event
is handled is never overwritten. Intake alone, driven by the dispatch events it consumes, on
the real broker and SQLite and PostgreSQL."""
import threading
from datetime import datetime, timedelta, timezone

import pytest

from aftersales.auth import Principal
from aftersales.db import make_engine, migrate, session_factory
from aftersales.outbox import make_envelope
from aftersales.registry import migrations_dir
from services.intake.adapters.repository import IntakeUnitOfWork
from services.intake.bootstrap import bus_for
from services.intake.service_layer.commands import Cancel, ReceiveRequest
from tests.support.broker import publish_event
from tests.support.data import repair_request
from tests.support.fixtures import auth
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

def open_ticket(services, http) -> str:
    body = repair_request(asset=None)
    r = http.post(services.url("intake", "/api/v1/tickets"), json=body, headers=auth("SH"))
    assert r.status_code == 201, r.text
    return r.json()["ticket_no"]


def view(services, http, ticket_no) -> dict:
    r = http.get(services.url("intake", f"/api/v1/tickets/{ticket_no}"), headers=auth("SH"))
    assert r.status_code == 200, r.text
    return r.json()


class Dispatch:
    """Dispatch's events for one ticket, each stamped ``minute`` minutes after the ticket was
    opened (intake stamps ``ticket_opened`` with its own clock, so the job starts after it)."""

    def __init__(self, ticket_no):
        self.ticket_no, self.t0 = ticket_no, datetime.now(timezone.utc)

    def at(self, minute):
        return self.t0 + timedelta(minutes=minute)

    def event(self, type_, minute, **data):
        return make_envelope("dispatch", type_, {"ticket_no": self.ticket_no, **data},
                             ticket_no=self.ticket_no, branch="SH", occurred_at=self.at(minute))

    def assigned(self, minute, engineer="SH-E001", **extra):
        return self.event("engineer_assigned", minute, engineer_id=engineer,
                          engineer_name="王强", reason="最近且空闲", **extra)


def deliver(services, http, ticket_no, *envs) -> dict:
    """Publish the events (in the order given) and wait until all are on the timeline."""
    for env in envs:
        publish_event(services.broker_uri, env)
    ids = {str(e.event_id) for e in envs}
    return wait_until(lambda: (lambda v: v if ids <= {e["event_id"] for e in v["timeline"]}
                               else None)(view(services, http, ticket_no)),
                      what=f"{len(envs)} event(s) on {ticket_no}'s timeline")


def test_a_ticket_escalated_after_an_acceptance_timeout_can_be_resolved(services, http):
    services.start("intake")
    t = open_ticket(services, http)
    job = Dispatch(t)
    timed_out = job.event("job_declined", 30, engineer_id="SH-E001", reason="超时未接单",
                          declined_at=job.at(30), timed_out=True)
    failed = job.event("assignment_failed", 31, reason="本分公司无空闲工程师",
                       escalated_to="SH-SUP-01")
    # delivered out of order: the escalation first, the assignment last
    v = deliver(services, http, t, failed, timed_out, job.assigned(1))
    assert v["status"] == "escalated"
    assert [e["type"] for e in v["timeline"]] == ["ticket_opened", "engineer_assigned",
                                                 "job_declined", "assignment_failed"]

    r = http.post(services.url("intake", f"/api/v1/tickets/{t}/resolve"),
                  json={"resolution": "电话指导客户复位设备，无需上门"}, headers=auth("SH"))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "resolved"
    assert view(services, http, t)["status"] == "resolved"


def test_a_manual_reassignment_from_en_route_shows_the_ticket_assigned(services, http):
    services.start("intake")
    t = open_ticket(services, http)
    job = Dispatch(t)
    v = deliver(services, http, t, job.assigned(1),
                job.event("job_accepted", 5, engineer_id="SH-E001", accepted_at=job.at(5)),
                job.event("engineer_en_route", 20, engineer_id="SH-E001", departed_at=job.at(20)))
    assert v["status"] == "en_route"
    v = deliver(services, http, t, job.assigned(45, engineer="SH-E002",
                                                previous_engineer_id="SH-E001", manual=True))
    assert v["status"] == "assigned"
    listed = http.get(services.url("intake", "/api/v1/tickets"), params={"status": "assigned"},
                      headers=auth("SH")).json()
    assert [x["ticket_no"] for x in listed["tickets"]] == [t]


class CommitHeldOpen(IntakeUnitOfWork):
    """A unit of work that, when asked to commit, holds its transaction (and its row locks)
    open until the test releases it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.holding, self.release = threading.Event(), threading.Event()

    def commit(self):
        self.holding.set()
        assert self.release.wait(timeout=30), "the test never released the transaction"
        super().commit()


@pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)
def test_a_cancellation_committed_while_an_event_is_handled_is_not_overwritten(database_urls):
    engine = make_engine(database_urls["intake"])
    migrate(engine, migrations_dir("intake"))
    factory = session_factory(engine)
    t = bus_for(factory).handle(ReceiveRequest(repair_request(asset=None))).ticket_no
    agent = Principal(key_id="ak-test", branch="SH", role="agent")

    cancelling = CommitHeldOpen(factory, "intake")
    cancel = threading.Thread(target=bus_for(factory, unit_of_work=lambda: cancelling).handle,
                              args=(Cancel(t, agent, "客户自行修好"),), daemon=True)
    cancel.start()
    assert cancelling.holding.wait(timeout=15), "the cancellation never reached its commit"

    event = threading.Thread(target=bus_for(factory).handle_event,
                             args=(Dispatch(t).assigned(1),), daemon=True)
    event.start()
    with engine.connect() as c:     # the event's transaction waits for the ticket's row lock
        wait_until(lambda: c.exec_driver_sql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'").scalar(), what="the event handler to wait for the lock")
    cancelling.release.set()
    cancel.join(timeout=15)
    event.join(timeout=15)
    assert not cancel.is_alive() and not event.is_alive()

    with IntakeUnitOfWork(factory, "intake") as uow:
        ticket = uow.tickets.get(t)
        types = [e["type"] for e in uow.tickets.timeline(t)]
    assert (ticket["intake_state"], ticket["status"]) == ("cancelled", "cancelled")
    assert sorted(types) == ["engineer_assigned", "ticket_cancelled", "ticket_opened"]
    engine.dispose()
