"""Intake's repositories over its tables."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.orm import Session

from aftersales.contracts.envelope import utcnow
from aftersales.db import dialect_insert
from aftersales.outbox import UnitOfWork

from ..domain.model import AssetRecord, Ticket
from .orm import assets, rejections, ticket_sequences, tickets, timeline


# The hot path's statements, built once: a statement built per call costs SQLAlchemy its
# construction, its cache key and (for the dialect upserts, which its cache does not take) a
# fresh compilation each time; these are compiled once per engine and reused. They run on the
# session's connection (the unit of work's transaction), skipping the ORM's execute layer.
_BY_REQUEST = select(tickets.c.ticket_no).where(tickets.c.source == bindparam("source"),
                                                tickets.c.request_id == bindparam("request_id"))
_GET = select(tickets).where(tickets.c.ticket_no == bindparam("ticket_no"))
_OPEN_FOR_SERIAL = (   # ix_tickets_serial_open: three equalities, then its order
    select(tickets.c.ticket_no)
    .where(tickets.c.serial_no == bindparam("serial_no"), tickets.c.branch == bindparam("branch"),
           tickets.c.intake_state == bindparam("intake_state"),
           tickets.c.status.not_in(bindparam("final", expanding=True)))
    .order_by(tickets.c.opened_at).limit(1))
# One statement on both databases (SQLite >= 3.35 and PostgreSQL): the row lock it takes (the
# write lock on SQLite) is held until the commit, so two instances never get the same number.
_NEXT_SEQUENCE = text(
    "INSERT INTO ticket_sequences (branch, day, last_no) VALUES (:branch, :day, 1) "
    "ON CONFLICT (branch, day) DO UPDATE SET last_no = ticket_sequences.last_no + 1 "
    "RETURNING last_no")
_GIVE_BACK = text("UPDATE ticket_sequences SET last_no = last_no - 1 "
                  "WHERE branch = :branch AND day = :day AND last_no = :n")
# The ticket's insert: a dialect's ``on_conflict_do_nothing`` construct is compiled afresh on
# every execution, a text statement with typed parameters once (same SQL on both databases).
_INSERT_TICKET = text(
    f"INSERT INTO tickets ({', '.join(c.name for c in tickets.c)}) "
    f"VALUES ({', '.join(':' + c.name for c in tickets.c)}) "
    "ON CONFLICT (source, request_id) DO NOTHING"
).bindparams(*(bindparam(c.name, type_=c.type) for c in tickets.c))
_TIMELINE_INSERT = timeline.insert()
_ASSET = select(assets).where(assets.c.serial_no == bindparam("serial_no"))


class TicketRepository:
    def __init__(self, session: Session):
        self.session = session

    def _run(self, statement, params=None):
        return self.session.connection().execute(statement, params or {})

    def next_sequence(self, branch: str, day: date) -> int:
        """Atomically take the next number of (branch, day): one upsert, unique under
        concurrency (row lock on PostgreSQL, the write lock on SQLite), held to the commit."""
        return int(self._run(_NEXT_SEQUENCE, {"branch": branch, "day": f"{day:%Y%m%d}"})
                   .scalar_one())

    def give_back_sequence(self, branch: str, day: date, n: int) -> None:
        """Return number ``n`` of (branch, day) taken in this transaction and not used: the
        transaction still holds the row's lock, so no later number was taken meanwhile."""
        self._run(_GIVE_BACK, {"branch": branch, "day": f"{day:%Y%m%d}", "n": n})

    def by_request(self, source: str, request_id: str) -> str | None:
        """The ticket of ``(source, request_id)``: one lookup of the unique key."""
        return self._run(_BY_REQUEST, {"source": source, "request_id": request_id}).scalar()

    def add(self, t: Ticket) -> dict | None:
        """Insert the ticket; its row as :meth:`get` would read it, or ``None`` when its
        ``(source, request_id)`` is taken already (another delivery of the request committed
        it, or is committing it: PostgreSQL waits for that transaction). Never an
        IntegrityError for the key, so the transaction goes on."""
        now = utcnow()
        row = dict(
            ticket_no=t.ticket_no, branch=t.branch, source=t.source, request_id=t.request_id,
            channel=t.channel, received_at=t.received_at, priority=t.priority,
            category=t.category, classification_rule=t.classification_rule, status=t.status,
            intake_state=t.intake_state, linked_to=t.linked_to,
            serial_no=(t.request.get("asset") or {}).get("serial_no"), first_contact_at=None,
            customer_phone=t.request["customer"]["phone"], warranty_status=t.warranty.status,
            warranty_ends_on=t.warranty.ends_on, warranty_component=t.warranty.component_category,
            request=t.request, opened_at=now, updated_at=now)
        inserted = self._run(_INSERT_TICKET, row).rowcount
        return row if inserted else None

    def get(self, ticket_no: str) -> dict | None:
        row = self._run(_GET, {"ticket_no": ticket_no}).mappings().first()
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
        (``intake_state``, so not itself linked) and whose ``status`` is not final; through
        ``ix_tickets_serial_open`` on both databases whatever the statistics."""
        return self._run(_OPEN_FOR_SERIAL, {"serial_no": serial_no, "branch": branch,
                                            "intake_state": "open",
                                            "final": list(final_statuses)}).scalar()

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
        self._run(_TIMELINE_INSERT, dict(ticket_no=ticket_no, event_id=event_id, type=type_,
                                         source=source, occurred_at=occurred_at, data=data))

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
        row = self.session.connection().execute(_ASSET, {"serial_no": serial_no}).mappings().first()
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
