"""A view made of several queries reads one state: ``UnitOfWork.snapshot()`` keeps a commit made
between its reads out of them (PostgreSQL's READ COMMITTED would mix them; SQLite's transaction
already reads one state). Intake's ticket view uses it so that a ticket's status and the
timeline it was derived from always agree."""
import pytest
from sqlalchemy import text

from aftersales.db import session_factory
from aftersales.outbox import UnitOfWork

pytestmark = pytest.mark.integration


def test_a_commit_between_two_reads_of_a_snapshot_is_not_seen(intake_db, db_backend):
    if db_backend == "sqlite":
        pytest.skip("SQLite's BEGIN IMMEDIATE holds other writers off for the whole transaction")
    engine, count = intake_db, text("SELECT count(*) FROM inbox")
    for take_snapshot, expected in ((True, 0), (False, 1)):
        with engine.begin() as c:
            c.execute(text("DELETE FROM inbox"))
        with UnitOfWork(session_factory(engine), "intake") as uow:
            if take_snapshot:
                uow.snapshot()
            assert uow.session.execute(count).scalar() == 0
            with engine.begin() as other:   # another transaction commits meanwhile
                other.execute(text("INSERT INTO inbox (event_id, event_type, processed_at) "
                                   "VALUES ('e-1', 'job_accepted', now())"))
            assert uow.session.execute(count).scalar() == expected
