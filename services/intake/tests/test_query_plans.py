"""The open ticket of an asset is looked up through ix_tickets_serial_open on SQLite and
PostgreSQL, with and without the planner's statistics (a test on the plan, not on time)."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import insert

from services.intake.adapters import repository
from services.intake.adapters.orm import tickets
from services.intake.adapters.statistics import refresh_statistics
from services.intake.domain.model import FINAL_STATUSES
from tests.support.fixtures import migrated_database


def _fill(engine, n=3000):
    now = datetime.now(timezone.utc)
    rows = [dict(ticket_no=f"{b}-{i:08d}", branch=b, source="pc", request_id=f"R-{i}",
                 channel="phone", received_at=now, priority="C", category="fault",
                 classification_rule="default", status="open", intake_state="open",
                 serial_no=f"SN-{i // 2}", customer_phone="138", warranty_status="unknown",
                 request={}, opened_at=now - timedelta(minutes=i), updated_at=now)
            for i, b in ((i, ("SH", "HZ", "BJ", "GZ")[i % 4]) for i in range(n))]
    with engine.begin() as c:
        c.execute(insert(tickets), rows)


def _plan(engine) -> str:
    """The plan of open_for_serial's statement (its SQL with the values written in)."""
    stmt = repository._OPEN_FOR_SERIAL.params(serial_no="SN-7", branch="SH", intake_state="open",
                                              final=list(FINAL_STATUSES))
    sql = str(stmt.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as c:
        return " ".join(str(r[-1]) for r in c.exec_driver_sql(prefix + sql).all())


def test_the_open_ticket_of_an_asset_is_found_through_the_serial_index(database_urls):
    with migrated_database(database_urls["intake"], "intake") as (engine, _):
        _fill(engine)
        assert "ix_tickets_serial_open" in _plan(engine)        # whatever the statistics
        refresh_statistics(engine)
        assert "ix_tickets_serial_open" in _plan(engine)
