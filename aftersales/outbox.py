"""Transactional outbox and inbox tables, and the unit of work that writes them.

A handler changes state and records its outgoing events (``outbox``) and the id of the event
it consumed (``inbox``) in ONE database transaction. The relay (``messaging.relay``) publishes
outbox rows afterwards; a redelivered event finds its ``event_id`` in the inbox and has no
second effect.
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy import (Column, Integer, MetaData, String, Table, Text, select,
                        func)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .contracts.envelope import Envelope, utcnow
from .contracts.events import latest, spec_for
from .timecolumns import UTCDateTime

reliability_metadata = MetaData()

outbox = Table(
    "outbox", reliability_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("exchange", String(200), nullable=False),
    Column("routing_key", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("published_at", UTCDateTime(), nullable=True, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
    Column("next_attempt_at", UTCDateTime(), nullable=True),
)

inbox = Table(
    "inbox", reliability_metadata,
    Column("event_id", String(36), primary_key=True),
    Column("event_type", String(100), nullable=False),
    Column("processed_at", UTCDateTime(), nullable=False, index=True),   # the prune's range
)


# Key ids revoked with `aftersales keys revoke` (the key_revoked event); every service keeps
# its own copy and refuses those keys (aftersales/revocation.py).
revoked_keys = Table(
    "revoked_keys", reliability_metadata,
    Column("kid", String(64), primary_key=True),
    Column("subject", String(64), nullable=True),
    Column("reason", Text, nullable=True),
    Column("revoked_at", UTCDateTime(), nullable=False),
)



# Built once (every unit of work writes them): executed with parameters, so SQLAlchemy's
# compiled-statement cache is hit without building and hashing a new statement per call.
_OUTBOX_INSERT = outbox.insert()
_CLAIMS: dict[str, Any] = {}


def _claim_statement(session: Session):
    """The inbox's INSERT … ON CONFLICT DO NOTHING of the session's dialect (one per dialect)."""
    name = session.get_bind().dialect.name
    stmt = _CLAIMS.get(name)
    if stmt is None:
        from .db import dialect_insert
        stmt = _CLAIMS[name] = dialect_insert(session)(inbox).on_conflict_do_nothing(
            index_elements=[inbox.c.event_id])
    return stmt


class DuplicateEvent(Exception):
    """The event was processed already (found in the inbox)."""


def make_envelope(service: str, type_: str, data: dict[str, Any], *, ticket_no: str | None,
                  branch: str | None, version: int | None = None,
                  occurred_at: datetime | None = None) -> Envelope:
    spec = spec_for(type_, version) if version else latest(type_)
    if spec.source != service:
        raise ValueError(f"{service} may not publish {type_!r}: it belongs to {spec.source}")
    validated = spec.schema.model_validate(data)
    return Envelope(
        event_id=uuid.uuid4(), type=type_, version=spec.version,
        occurred_at=occurred_at or utcnow(), source=service,
        ticket_no=ticket_no, branch=branch,
        data=validated.model_dump(mode="json", exclude_none=False),
    )


class UnitOfWork:
    """One transaction: state, outgoing events and processed event ids commit together.

    Services subclass it to attach their repositories in :meth:`_open`.
    """

    def __init__(self, session_factory: Callable[[], Session], service: str,
                 on_commit: Callable[[], None] | None = None):
        self._session_factory = session_factory
        self.service = service
        self._on_commit = on_commit
        self.session: Session | None = None
        self.published: list[Envelope] = []
        self.messages: list[tuple[str, str, str]] = []   # non-enveloped messages queued

    def __enter__(self):
        self.session = self._session_factory()
        self.published = []
        self.messages = []
        self._open(self.session)
        return self

    def _open(self, session: Session) -> None:
        """Attach repositories (overridden by services)."""

    def snapshot(self) -> "UnitOfWork":
        """Read what follows from one snapshot (a view made of several queries: a row and its
        history). PostgreSQL's default READ COMMITTED takes a snapshot per statement, so a
        commit between two reads would mix states; call this before the first query. SQLite's
        transactions already read one state."""
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        return self

    def __exit__(self, *exc):
        try:
            self.session.rollback()
        finally:
            self.session.close()
            self.session = None

    # -- outbox ---------------------------------------------------------------------------
    def publish(self, type_: str, data: dict[str, Any], *, ticket_no: str | None = None,
                branch: str | None = None, version: int | None = None) -> Envelope:
        env = make_envelope(self.service, type_, data, ticket_no=ticket_no, branch=branch,
                            version=version)
        self.session.execute(_OUTBOX_INSERT, {
            "event_id": str(env.event_id), "exchange": f"{self.service}.events",
            "routing_key": type_, "body": json.dumps(env.to_json_dict(), ensure_ascii=False),
            "created_at": utcnow(), "attempts": 0})
        self.published.append(env)
        return env

    def publish_message(self, exchange: str, routing_key: str, body: dict[str, Any], *,
                        message_id: str) -> None:
        """Queue a message that is not an enveloped platform event (e.g. a ``repair_requested``
        on ``phone_center.events``, as a phone center would send it) in the same outbox. The
        relay publishes it like any event: ``message_id`` (36 characters at most, unique: a
        second message with the same id fails the transaction) becomes the AMQP message id.
        A ``repair_requested`` body is validated against the phone-center contract first."""
        from .contracts.events import RepairRequested
        from .contracts.topology import PHONE_CENTER_EXCHANGE, REPAIR_REQUESTED
        if (exchange, routing_key) == (PHONE_CENTER_EXCHANGE, REPAIR_REQUESTED):
            body = RepairRequested.model_validate(body).model_dump(mode="json", exclude_none=True)
        if exchange.endswith(".events") and exchange != PHONE_CENTER_EXCHANGE and \
                exchange != f"{self.service}.events":
            raise ValueError(f"{self.service} may not publish on {exchange}")
        self.session.execute(_OUTBOX_INSERT, {
            "event_id": message_id, "exchange": exchange, "routing_key": routing_key,
            "body": json.dumps(body, ensure_ascii=False), "created_at": utcnow(), "attempts": 0})
        self.messages.append((exchange, routing_key, message_id))

    # -- inbox ----------------------------------------------------------------------------
    def seen(self, event_id: uuid.UUID | str) -> bool:
        return self.session.execute(
            select(inbox.c.event_id).where(inbox.c.event_id == str(event_id))
        ).first() is not None

    def claim(self, event_id: uuid.UUID | str, event_type: str) -> bool:
        """``seen`` and ``record_processed`` in one statement: INSERT … ON CONFLICT DO NOTHING;
        True when this unit of work recorded the event (first delivery), False when it was
        processed already (on PostgreSQL a concurrent delivery's insert is waited for: False
        once it committed). No savepoint, one round trip."""
        stmt = _claim_statement(self.session)
        return self.session.execute(stmt, {"event_id": str(event_id), "event_type": event_type,
                                           "processed_at": utcnow()}).rowcount == 1

    def record_processed(self, event_id: uuid.UUID | str, event_type: str) -> None:
        """Record the event as processed; DuplicateEvent if a concurrent delivery of the same
        event got there first (PostgreSQL reports the unique violation here, not at commit)."""
        try:
            with self.session.begin_nested():
                self.session.execute(inbox.insert().values(
                    event_id=str(event_id), event_type=event_type, processed_at=utcnow()))
        except IntegrityError as exc:
            raise DuplicateEvent(f"event {event_id} was processed already") from exc

    def commit(self) -> None:
        try:
            self.session.commit()
        except IntegrityError as exc:
            self.session.rollback()
            if "inbox" in str(exc.orig).lower() or "inbox_pkey" in str(exc.orig):
                raise DuplicateEvent(str(exc.orig)) from exc
            raise
        if (self.published or self.messages) and self._on_commit:
            self._on_commit()


def outbox_backlog(session: Session) -> tuple[int, datetime | None]:
    """(number of unpublished events, creation time of the oldest)."""
    row = session.execute(
        select(func.count(), func.min(outbox.c.created_at)).where(outbox.c.published_at.is_(None))
    ).one()
    return int(row[0]), row[1]


def prune(engine, now: datetime, *, outbox_retention: timedelta,
          inbox_retention: timedelta, batch: int = 5000) -> tuple[int, int]:
    """Delete outbox rows sent more than ``outbox_retention`` ago and inbox ids recorded more
    than ``inbox_retention`` ago; returns (rows, ids) deleted.

    The inbox retention is the duplicate window: a redelivery of an event older than it would
    have its effect again (redeliveries come within minutes; replays of parked messages carry
    events that were never recorded)."""
    sent = _delete_in_batches(engine, outbox, outbox.c.id, outbox.c.published_at.is_not(None)
                              & (outbox.c.published_at < now - outbox_retention), batch)
    ids = _delete_in_batches(engine, inbox, inbox.c.event_id,
                             inbox.c.processed_at < now - inbox_retention, batch)
    return sent, ids


def _delete_in_batches(engine, table, key, condition, batch: int) -> int:
    """Delete the rows matching ``condition`` at most ``batch`` at a time, each batch in its
    own short transaction (a writer never waits behind one long delete)."""
    total = 0
    while True:
        with engine.begin() as conn:
            n = conn.execute(table.delete().where(
                key.in_(select(key).where(condition).limit(batch).scalar_subquery()))).rowcount
        total += int(n or 0)
        if not n or n < batch:
            return total
