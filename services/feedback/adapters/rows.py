"""What feedback's repositories share: JSON kept in Text columns (customer, site, notes,
reasons, plan definitions) and rows read back as domain objects."""
from __future__ import annotations

import dataclasses
import json

from sqlalchemy.orm import Session


def dumps(v):
    return json.dumps(v, ensure_ascii=False) if v is not None else None


def loads(v, default=None):
    return json.loads(v) if v else default


def from_row(cls, row, **converted):
    """A ``cls`` (a dataclass) from the row's columns of the same names; ``converted`` gives
    the fields a column does not hold as they are (JSON, derived)."""
    values = {f.name: row[f.name] for f in dataclasses.fields(cls) if f.name in row}
    return cls(**{**values, **converted})


def where_given(q, table, **equal):
    """``q`` filtered to rows whose column equals each value given (None or "" filters
    nothing): the optional filters of a list."""
    for column, value in equal.items():
        if value:
            q = q.where(table.c[column] == value)
    return q


class Repository:
    def __init__(self, session: Session):
        self.session = session

    def skip_locked(self, query):
        """``query`` taking its rows ``FOR UPDATE SKIP LOCKED`` on PostgreSQL: the rows another
        transaction holds (another instance's scheduler working on them) are left out instead
        of waited for, so two schedulers take disjoint rows. Unchanged on SQLite, where the
        file lock serialises writers."""
        if self.session.get_bind().dialect.name == "postgresql":
            return query.with_for_update(skip_locked=True)
        return query
