"""Parts' copy of each ticket's warranty decision (from intake's ``ticket_opened`` and
dispatch's ``parts_requested``)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, String, Table, select

from aftersales.timecolumns import UTCDateTime

from .orm import metadata

ticket_warranty = Table(
    "ticket_warranty", metadata,
    Column("ticket_no", String(40), primary_key=True),
    Column("branch", String(20), nullable=False),
    Column("in_warranty", Boolean, nullable=False),
    Column("status", String(30), nullable=False),     # intake's status, or dispatch's word
    Column("source", String(30), nullable=False),     # ticket_opened | parts_requested
    Column("decided_at", UTCDateTime(), nullable=False),
)


class WarrantyRepository:
    def __init__(self, session):
        self.session = session

    def get(self, ticket_no: str) -> dict | None:
        row = self.session.execute(select(ticket_warranty).where(
            ticket_warranty.c.ticket_no == ticket_no)).mappings().first()
        return dict(row) if row else None

    def put(self, ticket_no: str, branch: str, in_warranty: bool, status: str, source: str,
            at: datetime) -> None:
        values = dict(branch=branch, in_warranty=in_warranty, status=status, source=source,
                      decided_at=at)
        if self.get(ticket_no) is None:
            self.session.execute(ticket_warranty.insert().values(ticket_no=ticket_no, **values))
        else:
            self.session.execute(ticket_warranty.update().where(
                ticket_warranty.c.ticket_no == ticket_no).values(**values))
