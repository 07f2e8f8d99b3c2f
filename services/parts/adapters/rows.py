"""Reading one row of a table by its ``id``, for the repositories."""
from __future__ import annotations

from sqlalchemy import Table, select
from sqlalchemy.orm import Session


def by_id(session: Session, table: Table, key: str, lock: bool = False):
    """The row of ``table`` whose ``id`` is ``key`` (as a mapping), locked for update with
    ``lock``; None if there is none (no id holds a NUL, which PostgreSQL cannot compare)."""
    if "\x00" in key:
        return None
    q = select(table).where(table.c.id == key)
    if lock:
        q = q.with_for_update()
    return session.execute(q).mappings().first()
