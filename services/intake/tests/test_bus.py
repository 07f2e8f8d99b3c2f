"""Intake's bus as bootstrap builds it (the real tables, the real unit of work) on SQLite and
PostgreSQL, without the broker: a request, its repeat, a refused one, a repeat that lost the
unique-key race, a desk action the state forbids, and a redelivered event."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from aftersales.auth import Principal
from aftersales.contracts import topology
from aftersales.errors import Conflict, InvalidInput
from aftersales.outbox import make_envelope, outbox
from services.intake import bootstrap
from services.intake.adapters.orm import rejections
from services.intake.adapters.repository import IntakeUnitOfWork
from services.intake.service_layer import commands, receiving
from tests.support.data import repair_request
from tests.support.fixtures import migrated_database

AGENT = Principal(key_id="ak-test", branch="SH", role="agent")


@pytest.fixture
def sessions(database_urls):
    with migrated_database(database_urls["intake"], "intake", seed=True) as (_, factory):
        yield factory


def published(factory, type_):
    with factory() as s:
        return s.execute(select(outbox.c.routing_key).where(outbox.c.routing_key == type_)).all()


def test_the_tables_route_every_bound_event_and_every_command():
    bound = {b.routing_key for b in topology.queue("aftersales.intake.events").bindings}
    assert set(bootstrap.EVENTS) == bound and "ticket_opened" not in bound
    assert set(bootstrap.COMMANDS) == {commands.ReceiveRequest, commands.RecordContact,
                                       commands.Reclassify, commands.ResolveRemotely,
                                       commands.Cancel, commands.Split}


def test_a_request_its_repeat_and_a_refused_one(sessions):
    bus = bootstrap.bus_for(sessions)
    body = repair_request()
    first = bus.handle(commands.ReceiveRequest(body))
    assert first.outcome == "opened" and first.ticket_no.startswith("SH-20261122-")
    again = bus.handle(commands.ReceiveRequest(body))
    assert (again.outcome, again.ticket_no) == ("duplicate", first.ticket_no)

    refused = bus.handle(commands.ReceiveRequest(repair_request(channel="fax")))
    assert refused.outcome == "rejected"
    with pytest.raises(InvalidInput) as exc:       # raised once the rejection is committed
        receiving.settle(refused)
    assert [e["field"] for e in exc.value.errors] == ["channel"]
    with sessions() as s:
        assert len(s.execute(select(rejections)).all()) == 1
    assert len(published(sessions, "request_rejected")) == 1
    assert len(published(sessions, "ticket_opened")) == 2


class MissesTheWinner(IntakeUnitOfWork):
    """A unit of work whose first look for the request misses the ticket another delivery has
    just committed, as the loser of the race does."""

    def _open(self, session):
        super()._open(session)
        real, looks = self.tickets.by_request, []

        def by_request(*key):
            looks.append(key)
            return None if len(looks) == 1 else real(*key)
        self.tickets.by_request = by_request


def test_the_loser_of_the_unique_key_race_is_answered_as_the_duplicate(sessions):
    body = repair_request()
    winner = bootstrap.bus_for(sessions).handle(commands.ReceiveRequest(body))
    loser = bootstrap.bus_for(sessions, unit_of_work=lambda: MissesTheWinner(sessions, "intake"))
    answer = loser.handle(commands.ReceiveRequest(body))
    assert (answer.outcome, answer.ticket_no) == ("duplicate", winner.ticket_no)
    second = bootstrap.bus_for(sessions).handle(commands.ReceiveRequest(repair_request()))
    assert second.ticket_no[-4:] == "0002"         # the loser's number was given back


def test_a_desk_action_the_state_forbids_is_a_conflict(sessions):
    bus = bootstrap.bus_for(sessions)
    t = bus.handle(commands.ReceiveRequest(repair_request(asset=None))).ticket_no
    with pytest.raises(Conflict, match="only a linked ticket can be split off"):
        bus.handle(commands.Split(t, AGENT, "x"))
    assert bus.handle(commands.Cancel(t, AGENT, "客户自行修好"))["status"] == "cancelled"


def test_a_redelivered_event_is_on_the_timeline_once(sessions):
    bus = bootstrap.bus_for(sessions)
    t = bus.handle(commands.ReceiveRequest(repair_request(asset=None))).ticket_no
    env = make_envelope("dispatch", "engineer_assigned", {
        "ticket_no": t, "engineer_id": "SH-E001", "engineer_name": "王强", "reason": "最近且空闲"},
        ticket_no=t, branch="SH", occurred_at=datetime.now(timezone.utc))
    assert bus.handle_event(env) is True
    assert bus.handle_event(env) is None
    with IntakeUnitOfWork(sessions, "intake") as uow:
        assert [e["type"] for e in uow.tickets.timeline(t)] == ["ticket_opened",
                                                                "engineer_assigned"]
        assert uow.tickets.get(t)["status"] == "assigned"
