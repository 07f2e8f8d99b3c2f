"""The bus's tables: every event bound to feedback's queue has its handler, every command
class its handler, and the domain's refusals come out as 409s."""
from dataclasses import dataclass

import pytest

from aftersales.contracts import topology
from aftersales.errors import Conflict
from aftersales.messagebus import MessageBus
from services.feedback import bootstrap
from services.feedback.domain import complaints as cp
from services.feedback.domain import model
from services.feedback.domain import visits as rv
from services.feedback.service_layer import commands


def test_every_event_bound_to_feedbacks_queue_has_a_handler():
    [queue] = [q for q in topology.QUEUES if q.name == "aftersales.feedback.events"]
    assert sorted(b.routing_key for b in queue.bindings) == sorted(bootstrap.EVENTS)


def test_every_command_has_a_handler():
    defined = {c for c in vars(commands).values() if isinstance(c, type)
               and issubclass(c, commands.Command) and c.__module__ == commands.__name__
               and c not in (commands.Command, commands.StaffCommand, commands.ComplaintCommand)}
    assert defined == set(bootstrap.COMMANDS)


class _NoStore:
    """A unit of work that holds nothing (the handler below refuses before any query)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def commit(self):
        raise AssertionError("a refused change commits nothing")


@dataclass(frozen=True)
class _Refuse:
    error: Exception


def _refuse(uow, cmd):
    raise cmd.error


@pytest.mark.parametrize("error", [cp.ComplaintError, rv.VisitError, model.FollowUpError])
def test_a_refused_change_is_a_conflict_with_the_domains_words(error):
    bus = MessageBus(_NoStore, commands={_Refuse: _refuse}, errors=bootstrap.ERRORS)
    with pytest.raises(Conflict, match="^the complaint is closed$"):
        bus.handle(_Refuse(error("the complaint is closed")))
