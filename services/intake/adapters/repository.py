"""Intake's repositories over its tables."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from aftersales.contracts.envelope import utcnow
from aftersales.db import dialect_insert
from aftersales.outbox import UnitOfWork

from ..domain.model import AssetRecord, Ticket
from .orm import assets, rejections, ticket_sequences, tickets, timeline


class TicketRepository:
    def __init__(self, session: Session):
        self.session = session

    def next_sequence(self, branch: str, day: date) -> int:
        """Atomically take the next number of (branch, day): one upsert, unique under
        concurrency (row lock on PostgreSQL, the write lock on SQLite)."""
        stmt = dialect_insert(self.session)(ticket_sequences).values(
            branch=branch, day=f"{day:%Y%m%d}", last_no=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=["branch", "day"],
            set_={"last_no": ticket_sequences.c.last_no + 1},
        ).returning(ticket_sequences.c.last_no)
        return int(self.session.execute(stmt).scalar_one())

    def by_request(self, source: str, request_id: str) -> str | None:
        return self.session.execute(
            select(tickets.c.ticket_no).where(tickets.c.source == source,
                                              tickets.c.request_id == request_id)).scalar()

    def add(self, t: Ticket) -> None:
        now = utcnow()
        self.session.execute(tickets.insert().values(
            ticket_no=t.ticket_no, branch=t.branch, source=t.source, request_id=t.request_id,
            channel=t.channel, received_at=t.received_at, priority=t.priority,
            category=t.category, classification_rule=t.classification_rule, status=t.status,
            intake_state=t.intake_state, linked_to=t.linked_to,
            serial_no=(t.request.get("asset") or {}).get("serial_no"),
            customer_phone=t.request["customer"]["phone"], warranty_status=t.warranty.status,
            warranty_ends_on=t.warranty.ends_on, warranty_component=t.warranty.component_category,
            request=t.request, opened_at=now, updated_at=now))

    def get(self, ticket_no: str) -> dict | None:
        row = self.session.execute(select(tickets).where(tickets.c.ticket_no == ticket_no)).mappings().first()
        return dict(row) if row else None

    def update(self, ticket_no: str, **values) -> None:
        self.session.execute(update(tickets).where(tickets.c.ticket_no == ticket_no)
                             .values(**values, updated_at=utcnow()))

    def lock(self, ticket_no: str) -> dict | None:
        """The ticket, locked for update on PostgreSQL (SQLite: the transaction holds the lock)."""
        row = self.session.execute(select(tickets).where(tickets.c.ticket_no == ticket_no)
                                   .with_for_update()).mappings().first()
        return dict(row) if row else None

    def open_for_serial(self, serial_no: str, branch: str, final_statuses) -> str | None:
        """The earliest ticket for this asset serial in the branch that the desk left open
        (``intake_state``, so not itself linked) and whose ``status`` is not final."""
        return self.session.execute(
            select(tickets.c.ticket_no)
            .where(tickets.c.serial_no == serial_no, tickets.c.branch == branch,
                   tickets.c.intake_state == "open", tickets.c.status.not_in(final_statuses))
            .order_by(tickets.c.opened_at).limit(1)).scalar()

    def search(self, *, branch=None, status=None, priority=None, phone=None, received_from=None,
               received_to=None, page=1, per_page=50) -> tuple[list[dict], int]:
        conds = []
        if branch:
            conds.append(tickets.c.branch == branch)
        if status:
            conds.append(tickets.c.status == status)
        if priority:
            conds.append(tickets.c.priority == priority)
        if phone:
            conds.append(tickets.c.customer_phone == phone)
        if received_from:
            conds.append(tickets.c.received_at >= received_from)
        if received_to:
            conds.append(tickets.c.received_at < received_to)
        total = int(self.session.execute(select(func.count()).select_from(tickets).where(*conds)).scalar_one())
        rows = self.session.execute(
            select(tickets).where(*conds).order_by(tickets.c.received_at.desc(), tickets.c.ticket_no)
            .offset((page - 1) * per_page).limit(per_page)).mappings().all()
        return [dict(r) for r in rows], total

    def add_timeline(self, ticket_no: str, event_id: str, type_: str, source: str,
                     occurred_at: datetime, data: dict) -> None:
        self.session.execute(timeline.insert().values(
            ticket_no=ticket_no, event_id=event_id, type=type_, source=source,
            occurred_at=occurred_at, data=data))

    def timeline(self, ticket_no: str) -> list[dict]:
        rows = self.session.execute(
            select(timeline.c.event_id, timeline.c.type, timeline.c.source,
                   timeline.c.occurred_at, timeline.c.data)
            .where(timeline.c.ticket_no == ticket_no)
            .order_by(timeline.c.occurred_at, timeline.c.id)).mappings().all()
        return [dict(r) for r in rows]

    def add_rejection(self, source, request_id, errors) -> None:
        self.session.execute(rejections.insert().values(
            source=source, request_id=request_id, errors=errors, rejected_at=utcnow()))

    def counts_by(self) -> list[tuple]:
        return self.session.execute(
            select(tickets.c.status, tickets.c.priority, tickets.c.branch, func.count())
            .group_by(tickets.c.status, tickets.c.priority, tickets.c.branch)).all()


class AssetRepository:
    def __init__(self, session: Session):
        self.session = session

    def get(self, serial_no: str | None) -> AssetRecord | None:
        if not serial_no:
            return None
        row = self.session.execute(select(assets).where(assets.c.serial_no == serial_no)).mappings().first()
        return AssetRecord(**dict(row)) if row else None

    def upsert(self, a: AssetRecord) -> None:
        values = {k: getattr(a, k) for k in AssetRecord.__dataclass_fields__}
        stmt = dialect_insert(self.session)(assets).values(**values)
        stmt = stmt.on_conflict_do_update(index_elements=["serial_no"],
                                          set_={k: v for k, v in values.items() if k != "serial_no"})
        self.session.execute(stmt)

    def count(self) -> int:
        return int(self.session.execute(select(func.count()).select_from(assets)).scalar_one())


class IntakeUnitOfWork(UnitOfWork):
    def _open(self, session):
        self.tickets = TicketRepository(session)
        self.assets = AssetRepository(session)
