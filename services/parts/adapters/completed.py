"""The tickets whose job was completed (from dispatch's ``job_completed``): a parts request
that arrives after it (redelivered, or late from another instance) reserves nothing."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, String, Table, select

from aftersales.db import dialect_insert
from aftersales.timecolumns import UTCDateTime

from .orm import metadata

completed_jobs = Table(
    "completed_jobs", metadata,
    Column("ticket_no", String(40), primary_key=True),
    Column("branch", String(20), nullable=True),
    Column("completed_at", UTCDateTime(), nullable=False),
)


class CompletedJobs:
    def __init__(self, session):
        self.session = session

    def record(self, ticket_no: str, branch: str | None, at: datetime) -> None:
        stmt = dialect_insert(self.session)(completed_jobs).values(
            ticket_no=ticket_no, branch=branch, completed_at=at)
        self.session.execute(stmt.on_conflict_do_nothing(index_elements=["ticket_no"]))

    def completed_at(self, ticket_no: str) -> datetime | None:
        return self.session.execute(select(completed_jobs.c.completed_at).where(
            completed_jobs.c.ticket_no == ticket_no)).scalar()
