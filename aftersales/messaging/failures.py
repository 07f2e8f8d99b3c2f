"""Which failures are transient (wait and try again, without limit) and which are not.

| failure | kind | what the consumer does |
|---|---|---|
| database unreachable, connection lost, ``database is locked``, pool timeout (SQLAlchemy ``OperationalError``, ``DisconnectionError``, ``InterfaceError``, ``TimeoutError``; a DBAPI error with ``connection_invalidated``) | transient, database | keeps the message (unacknowledged), stops taking new messages until the database answers, then runs it again; back-off capped |
| broker connection gone (``amqp`` connection errors, ``OSError``/``socket`` errors) | transient | same back-off, no database gate |
| ``ParkMessage``, ``PermanentError``, ``InvalidInput`` (the content is wrong) | permanent | parked at once |
| anything else (a bug, an integrity error) | unknown | retried through the delay queues ``AFTERSALES_RETRY_DELAYS_MS``, then parked |

The chain of causes (``__cause__``/``__context__``) is looked at too, so a service error that
wraps a lost database connection is still transient.
"""
from __future__ import annotations

import sqlite3

import amqp.exceptions
from sqlalchemy import exc as sa_exc

DATABASE = "database"
BROKER = "broker"

_DB_ERRORS = (sa_exc.OperationalError, sa_exc.DisconnectionError, sa_exc.InterfaceError,
              sa_exc.TimeoutError, sqlite3.OperationalError)
_DB_MESSAGES = ("database is locked", "server closed the connection", "could not connect",
                "connection refused", "terminating connection", "connection already closed",
                "ssl connection has been closed", "the database system is")
_BROKER_ERRORS = (amqp.exceptions.ConnectionError, amqp.exceptions.RecoverableConnectionError,
                  ConnectionError, TimeoutError, OSError)


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def transient_kind(exc: BaseException) -> str | None:
    """``"database"`` or ``"broker"`` for a transient failure, ``None`` otherwise."""
    for e in _chain(exc):
        if isinstance(e, _DB_ERRORS):
            return DATABASE
        if isinstance(e, sa_exc.DBAPIError) and getattr(e, "connection_invalidated", False):
            return DATABASE
        if isinstance(e, sa_exc.DBAPIError) and any(m in str(e).lower() for m in _DB_MESSAGES):
            return DATABASE
    for e in _chain(exc):
        if isinstance(e, _BROKER_ERRORS) and not isinstance(e, (FileNotFoundError, PermissionError)):
            return BROKER
    return None


def backoff(n: int, base: float = 0.5, cap: float = 30.0) -> float:
    """Seconds to wait before the ``n``-th retry (0-based): doubling from ``base``, never above
    ``cap`` (and no overflow for any ``n``)."""
    return min(cap, base * 2 ** min(max(n, 0), 32))
