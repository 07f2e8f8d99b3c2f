"""Tickets opened without a visit, kept for a later reclassification into a visit category
(``tickets_without_visit``)."""
from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..domain.visits import KeptTicket
from .orm import tickets_without_visit as table


class KeptTicketRepository:
    def __init__(self, session: Session):
        self.session = session

    def get(self, ticket_no: str, lock: bool = False) -> KeptTicket | None:
        query = select(table.c.ticket).where(table.c.ticket_no == ticket_no)
        if lock:
            query = query.with_for_update()
        doc = self.session.execute(query).scalar_one_or_none()
        return KeptTicket.from_doc(dict(doc)) if doc is not None else None

    def keep(self, ticket: KeptTicket, opened_event_id: str) -> None:
        """Insert or replace the ticket's row."""
        self.forget(ticket.ticket_no)
        self.session.execute(table.insert().values(
            ticket_no=ticket.ticket_no, branch=ticket.branch, opened_event_id=opened_event_id,
            ticket=ticket.as_doc()))

    def opened_event_id(self, ticket_no: str) -> str | None:
        return self.session.execute(select(table.c.opened_event_id).where(
            table.c.ticket_no == ticket_no)).scalar_one_or_none()

    def forget(self, ticket_no: str) -> None:
        self.session.execute(delete(table).where(table.c.ticket_no == ticket_no))
