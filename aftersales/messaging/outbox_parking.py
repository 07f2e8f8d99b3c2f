"""Outbox rows the relay gave up on (``attempts >= max_attempts``, still unsent): the outbox's
own parking, listed and replayed like parked messages (``aftersales outbox list|replay``).

A replay resets the row's attempts and back-off: the relay publishes it on its next round
(within ``AFTERSALES_RELAY_INTERVAL``), in the order of the outbox ids.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from ..outbox import outbox


def parked_rows(engine, max_attempts: int) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(outbox.c.id, outbox.c.event_id, outbox.c.exchange, outbox.c.routing_key,
                   outbox.c.created_at, outbox.c.attempts, outbox.c.last_error)
            .where(outbox.c.published_at.is_(None))
            .where(outbox.c.attempts >= max_attempts).order_by(outbox.c.id)).mappings().all()
    return [{**r, "created_at": r["created_at"].isoformat() if r["created_at"] else None}
            for r in rows]


def replay_rows(engine, max_attempts: int, row_id: int | None = None) -> list[int]:
    """Make one parked row (or every one with ``None``) due again; LookupError if ``row_id``
    is not a parked row."""
    ids = [r["id"] for r in parked_rows(engine, max_attempts)
           if row_id is None or r["id"] == row_id]
    if row_id is not None and not ids:
        raise LookupError(f"no parked outbox row {row_id}")
    if ids:
        with engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id.in_(ids))
                         .values(attempts=0, next_attempt_at=None))
    return ids
