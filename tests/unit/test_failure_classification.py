"""Which failures are transient, the capped back-off, the message budget, and an
acknowledgement on a dead connection (no broker needed)."""
from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import exc as sa_exc

from aftersales.errors import PermanentError
from aftersales.messaging.availability import message_workers
from aftersales.messaging.entrypoint import RawQueueConsumer
from aftersales.messaging.failures import BROKER, DATABASE, backoff, transient_kind


def _operational(message: str) -> sa_exc.OperationalError:
    return sa_exc.OperationalError("SELECT 1", {}, sqlite3.OperationalError(message))


@pytest.mark.parametrize("exc", [
    _operational("database is locked"),
    _operational('connection to server at "127.0.0.1", port 5432 failed: Connection refused'),
    sa_exc.TimeoutError("QueuePool limit of size 5 overflow 5 reached"),
    sa_exc.DisconnectionError("connection invalidated"),
])
def test_an_unreachable_or_locked_database_is_a_transient_database_failure(exc):
    assert transient_kind(exc) == DATABASE


def test_a_lost_database_connection_wrapped_in_a_service_error_is_still_transient():
    try:
        try:
            raise _operational("server closed the connection unexpectedly")
        except sa_exc.OperationalError as inner:
            raise RuntimeError("could not save the ticket") from inner
    except RuntimeError as outer:
        assert transient_kind(outer) == DATABASE


@pytest.mark.parametrize("exc", [ConnectionResetError(104, "Connection reset by peer"),
                                 BrokenPipeError(32, "Broken pipe"), TimeoutError("timed out")])
def test_a_broker_connection_gone_is_a_transient_broker_failure(exc):
    assert transient_kind(exc) == BROKER


@pytest.mark.parametrize("exc", [
    RuntimeError("a bug"), KeyError("ticket_no"), PermanentError("bad envelope"),
    sa_exc.IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed")),
])
def test_bugs_and_bad_content_are_not_transient(exc):
    assert transient_kind(exc) is None


def test_the_back_off_doubles_up_to_its_cap_and_never_overflows():
    assert [backoff(n, base=0.5, cap=30) for n in range(8)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
    assert backoff(1024, cap=60) == 60
    assert backoff(10 ** 9, cap=60) == 60


@pytest.mark.parametrize("max_workers, expected", [(10, 7), (4, 2), (3, 1), (1, 1), (30, 20)])
def test_messages_get_fewer_workers_than_the_pool_so_http_and_timers_keep_some(max_workers, expected):
    assert message_workers({"max_workers": max_workers, "AFTERSALES": {}}) == expected
    assert message_workers({"max_workers": 10, "AFTERSALES": {"message_workers": 3}}) == 3
    assert message_workers({"max_workers": 10, "AFTERSALES": {"message_workers": 50}}) == 10


class _DeadChannel:
    connection = object()   # the connection object is still there, its socket is not


class _MessageOnADeadConnection:
    channel = _DeadChannel()

    def ack(self):
        raise ConnectionResetError(104, "Connection reset by peer")

    def requeue(self):
        raise BrokenPipeError(32, "Broken pipe")


def test_an_ack_on_a_dead_connection_is_dropped_instead_of_raising():
    consumer = RawQueueConsumer()
    consumer.ack_message(_MessageOnADeadConnection())      # the broker redelivers it
    consumer.requeue_message(_MessageOnADeadConnection())
