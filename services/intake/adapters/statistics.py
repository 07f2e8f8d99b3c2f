"""The query planner's statistics of intake's tables, refreshed when the service starts (after
its migrations): ``ANALYZE`` of the service's database on PostgreSQL; on SQLite a bounded ``ANALYZE`` (``analysis_limit``
rows per index, so a start stays quick however many tickets are stored) followed by
``PRAGMA optimize``.

The hot queries do not depend on it: their indexes are chosen whatever the statistics (see
``tests/test_query_plans.py``); fresh statistics keep the planner's other choices sound."""
from __future__ import annotations

import logging

log = logging.getLogger(__name__)

SQLITE_ANALYSIS_LIMIT = 1000


def refresh_statistics(engine) -> None:
    """Never fails a start: a database that refuses (a read-only role) keeps the old ones."""
    if engine is None:
        return
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}")
                conn.exec_driver_sql("ANALYZE")
                conn.exec_driver_sql("PRAGMA optimize")
            else:
                conn.exec_driver_sql("ANALYZE")   # the service's own database: its tables
    except Exception as exc:   # noqa: BLE001 (statistics are an optimisation only)
        log.warning("could not refresh the planner's statistics: %s", exc)
