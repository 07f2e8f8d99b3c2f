"""The database's own plan of a statement a test captured (``before_cursor_execute``), for
tests that check which index answers a question (a plan, not a time)."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event


def query_plan(engine, statement: str, parameters) -> str:
    """SQLite's ``EXPLAIN QUERY PLAN`` / PostgreSQL's ``EXPLAIN`` of the statement as one line
    (row locks left out: the plan is the same)."""
    statement = statement.replace(" FOR UPDATE SKIP LOCKED", "")
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as c:
        return " ".join(str(r[-1]) for r in c.exec_driver_sql(prefix + statement, parameters).all())


@contextmanager
def statements_with(engine, fragment: str):
    """The ``(statement, parameters)`` the engine sends while the block runs, those whose
    text holds ``fragment`` (e.g. ``"FROM sla_clocks"``)."""
    seen: list = []

    def note(conn, cursor, statement, parameters, context, executemany):
        if fragment in statement:
            seen.append((statement, parameters))
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)
