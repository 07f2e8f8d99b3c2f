"""A ticket that needed no visit gets its job when it is reclassified into a visit category,
exactly once and whatever order the events arrive in; a training ticket gets an engineer.
Dispatch's use cases against the real database (SQLite and PostgreSQL), no broker needed."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from aftersales.categories import needs_visit
from aftersales.outbox import make_envelope
from services.dispatch.adapters.policies import PolicyBook
from services.dispatch.adapters.repository import DispatchUnitOfWork
from services.dispatch.bootstrap import bus_for
from services.dispatch.domain import visits
from services.dispatch.tests.test_dispatch_integration import ticket_opened
from tests.support.fixtures import migrated_database

TICKET = "SH-20261122-0042"


@pytest.fixture
def dispatch(database_urls):
    with migrated_database(database_urls["dispatch"], "dispatch", seed=True) as (_, factory):
        policies = PolicyBook({})

        class Dispatch:
            published: list = []

            def handle(self, env):
                uow = DispatchUnitOfWork(factory, "dispatch")
                out = bus_for(factory, unit_of_work=lambda: uow,
                              policies=policies).handle_event(env)
                self.published.extend((e.type, e.ticket_no, e.data) for e in uow.published)
                return out

            def job(self, ticket_no=TICKET):
                with DispatchUnitOfWork(factory, "dispatch") as uow:
                    return uow.jobs.get(ticket_no), uow.sla.of_ticket(ticket_no), \
                        uow.sla.history(ticket_no)

            def decisions(self, ticket_no=TICKET):
                return [t for t, n, _d in self.published
                        if n == ticket_no and t in ("engineer_assigned", "assignment_failed")]

        yield Dispatch()


def consultation(ticket_no=TICKET, **data):
    return ticket_opened(ticket_no, category="consultation", needs_visit=False, **data)


def reclassified(category="fault", previous="consultation", priority="B", previous_priority="B",
                 ticket_no=TICKET, at=None, needs=None):
    opened = ticket_opened(ticket_no)
    return make_envelope("intake", "ticket_reclassified", {
        "ticket_no": ticket_no, "priority": priority, "category": category,
        "previous_priority": previous_priority, "previous_category": previous,
        "needs_visit": needs_visit(category) if needs is None else needs,
        "reason": "客户补充：现场设备故障，需要上门", "by": "agent-7"},
        ticket_no=ticket_no, branch="SH",
        occurred_at=(at or opened.occurred_at) + timedelta(seconds=1))


def test_training_needs_an_engineer_and_consultation_does_not():
    assert needs_visit("training") and visits.needs_engineer("training")
    assert not needs_visit("consultation") and not needs_visit("complaint")
    assert not visits.needs_engineer("fault", linked_to="SH-20261122-0001")   # a suspected duplicate
    assert visits.needs_engineer("consultation", flagged=True)               # intake said so


def test_a_training_ticket_gets_an_engineer(dispatch):
    # as intake flags it today (training not a visit there): dispatch decides by the category
    dispatch.handle(ticket_opened(TICKET, category="training", needs_visit=False))
    job, clocks, _ = dispatch.job()
    assert job is not None and job.category == "training" and len(clocks) == 4
    assert dispatch.decisions() in (["engineer_assigned"], ["assignment_failed"])


def test_a_ticket_reclassified_into_a_visit_category_is_dispatched_exactly_once(dispatch):
    opened = consultation()
    dispatch.handle(opened)
    assert dispatch.job()[0] is None and dispatch.decisions() == []       # no visit, no job

    change = reclassified("fault", priority="A", previous_priority="B")
    dispatch.handle(change)
    job, clocks, history = dispatch.job()
    assert (job.status, job.category, job.priority) == ("assigned", "fault", "A")
    assert job.received_at == datetime.fromisoformat(opened.data["received_at"])  # from the opening
    assert {c.priority for c in clocks.values()} == {"A"} and len(clocks) == 4
    assert [h["reason"] for h in history if h["stage"] == "response"][-1].startswith(
        "priority B → A")
    assert dispatch.decisions() == ["engineer_assigned"]

    # the same event again, another reclassification, the opening re-sent: no second job
    dispatch.handle(change)
    dispatch.handle(reclassified("maintenance", previous="fault", priority="A",
                                 previous_priority="A"))
    dispatch.handle(opened)
    dispatch.handle(consultation())
    assert dispatch.decisions() == ["engineer_assigned"]
    assert dispatch.job()[0].category == "maintenance"


def test_a_reclassification_that_arrives_before_the_opening_is_applied_at_the_opening(dispatch):
    change = reclassified("installation")
    dispatch.handle(change)                                            # overtakes ticket_opened
    assert dispatch.job()[0] is None
    dispatch.handle(consultation())
    job, clocks, _ = dispatch.job()
    assert job is not None and job.category == "installation" and len(clocks) == 4
    dispatch.handle(change)
    assert dispatch.decisions() == ["engineer_assigned"]


def test_a_reclassification_that_needs_no_visit_opens_nothing(dispatch):
    dispatch.handle(consultation())
    dispatch.handle(reclassified("complaint"))
    assert dispatch.job()[0] is None and dispatch.decisions() == []
    # … until one does; a linked ticket (suspected duplicate) never gets its own engineer
    dispatch.handle(reclassified("parts", previous="complaint"))
    assert dispatch.job()[0] is not None
    other = "SH-20261122-0043"
    dispatch.handle(consultation(other, linked_to=TICKET))
    dispatch.handle(reclassified("fault", ticket_no=other, needs=False))
    assert dispatch.job(other)[0] is None


def test_a_cancelled_ticket_is_not_dispatched_by_a_later_reclassification(dispatch):
    dispatch.handle(consultation())
    opened = ticket_opened(TICKET)
    dispatch.handle(make_envelope("intake", "ticket_cancelled", {
        "ticket_no": TICKET, "cancelled_at": opened.occurred_at.isoformat(), "reason": "客户撤销",
        "by": "agent-7"}, ticket_no=TICKET, branch="SH"))
    dispatch.handle(reclassified("fault", at=opened.occurred_at + timedelta(minutes=5)))
    assert dispatch.job()[0] is None and dispatch.decisions() == []
