"""The message bus: its tables route, it owns the unit of work and the inbox, and it turns a
service's domain errors into the platform's."""
import uuid
from types import SimpleNamespace

import pytest

from aftersales.errors import Conflict
from aftersales.messagebus import MessageBus


class FakeUow:
    """Records what the bus does with the unit of work (the real one is tested against the
    databases in tests/test_outbox_inbox.py and every service's integration tests)."""

    def __init__(self, log, processed):
        self.log, self.processed = log, processed

    def __enter__(self):
        self.log.append("open")
        return self

    def __exit__(self, *exc):
        self.log.append("close")

    def seen(self, event_id):
        return event_id in self.processed

    def record_processed(self, event_id, event_type):
        self.log.append(f"inbox {event_type}")
        self.processed.add(event_id)

    def commit(self):
        self.log.append("commit")


@pytest.fixture
def world():
    log, processed = [], set()
    return log, processed, (lambda: FakeUow(log, processed))


def envelope(type_="ticket_opened"):
    return SimpleNamespace(type=type_, event_id=uuid.uuid4(), data={})


def test_an_event_runs_once_inside_one_unit_of_work_with_its_dependencies(world):
    log, _, uow = world
    calls = []

    def opened(uow, env, policies):
        log.append("handler")
        calls.append(policies)
        return "done"

    bus = MessageBus(uow, events={"ticket_opened": opened}, policies="P", settings="S")
    env = envelope()
    assert bus.handle_event(env) == "done"
    assert log == ["open", "inbox ticket_opened", "handler", "commit", "close"]
    assert calls == ["P"]            # only what the handler names
    log.clear()
    assert bus.handle_event(env) is None          # redelivered: no second effect
    assert log == ["open", "close"]


def test_an_unknown_event_type_is_ignored_without_touching_the_database(world):
    log, _, uow = world
    assert MessageBus(uow).handle_event(envelope("something_new")) is None
    assert log == []


def test_a_failing_handler_commits_nothing(world):
    log, processed, uow = world

    def broken(uow, env):
        raise RuntimeError("boom")

    bus = MessageBus(uow, events={"ticket_opened": broken})
    with pytest.raises(RuntimeError):
        bus.handle_event(envelope())
    assert "commit" not in log and log[-1] == "close"


class Approve:
    pass


class InvalidTransition(Exception):
    pass


def test_a_command_runs_its_handler_and_domain_errors_become_the_platforms(world):
    log, _, uow = world

    def approve(uow, cmd, **deps):
        log.append(sorted(deps))
        raise InvalidTransition("already approved")

    bus = MessageBus(uow, commands={Approve: approve},
                     errors={InvalidTransition: lambda e: Conflict(str(e))}, branches={}, now=1)
    with pytest.raises(Conflict, match="already approved"):
        bus.handle(Approve())
    assert ["branches", "now"] in log        # **deps takes every dependency
    with pytest.raises(LookupError, match="no handler for the command int"):
        bus.handle(3)


def test_a_command_commits_and_returns_the_handlers_result(world):
    log, _, uow = world
    bus = MessageBus(uow, commands={Approve: lambda uow, cmd: {"ok": True}})
    assert bus.handle(Approve()) == {"ok": True}
    assert log == ["open", "commit", "close"]
