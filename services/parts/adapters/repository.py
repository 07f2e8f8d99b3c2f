"""Parts' repositories over the catalogue, the stock ledger and the reorder points, and the
unit of work that attaches every repository (requests, transfers, backorders: ``requests.py``;
returns: ``returns.py``)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aftersales.db import dialect_insert
from aftersales.outbox import UnitOfWork

from ..domain import stock
from ..domain.model import Hold, LedgerEntry, Part, ReorderState, StockPosition
from .orm import parts, reorder_state, stock_balances, stock_ledger
from .requests import BackorderRepository, RequestRepository, TransferRepository
from .returns import ReturnRepository


class CatalogueRepository:
    def __init__(self, session: Session):
        self.session = session

    def upsert(self, p: Part) -> None:
        values = {"sku": p.sku, "name": p.name, "unit": p.unit, "cost_price": p.cost_price,
                  "price": p.price, "compatible_models": list(p.compatible_models),
                  "lead_time_days": p.lead_time_days, "reorder_point": p.reorder_point}
        stmt = dialect_insert(self.session)(parts).values(**values).on_conflict_do_update(
            index_elements=["sku"], set_={k: v for k, v in values.items() if k != "sku"})
        self.session.execute(stmt)

    @staticmethod
    def _part(r) -> Part:
        return Part(sku=r["sku"], name=r["name"], unit=r["unit"],
                    cost_price=Decimal(r["cost_price"]), price=Decimal(r["price"]),
                    compatible_models=tuple(r["compatible_models"] or ()),
                    lead_time_days=int(r["lead_time_days"]), reorder_point=r["reorder_point"])

    def all(self) -> list[Part]:
        rows = self.session.execute(select(parts).order_by(parts.c.sku)).mappings().all()
        return [self._part(r) for r in rows]

    def get_many(self, skus) -> dict[str, Part]:
        skus = sorted(set(skus))
        if not skus:
            return {}
        rows = self.session.execute(select(parts).where(parts.c.sku.in_(skus))).mappings().all()
        return {r["sku"]: self._part(r) for r in rows}

    def lock(self, skus) -> None:
        """Serialise stock movements of these SKUs (in every warehouse) until the transaction
        ends: row locks in SKU order on PostgreSQL; SQLite's write transaction (BEGIN
        IMMEDIATE) already serialises."""
        skus = sorted(set(skus))
        if skus:
            self.session.execute(select(parts.c.sku).where(parts.c.sku.in_(skus))
                                 .order_by(parts.c.sku).with_for_update()).all()

    def count(self) -> int:
        return int(self.session.execute(select(func.count()).select_from(parts)).scalar_one())


class LedgerRepository:
    """The stock ledger: append and read, never change. Positions are read from
    ``stock_balances``, which ``append`` keeps equal to the ledger's sums."""

    def __init__(self, session: Session):
        self.session = session

    def append(self, e: LedgerEntry) -> None:
        """The one write of the ledger: the row and its deltas on the balance, in the caller's
        transaction (the SKU locked by ``CatalogueRepository.lock``)."""
        self.session.execute(stock_ledger.insert().values(
            warehouse=e.warehouse, sku=e.sku, quantity=e.quantity, kind=e.kind,
            ticket_no=e.ticket_no, serial_no=e.serial_no, event_id=e.event_id,
            created_at=e.created_at, reserved=e.reserved, issued=e.issued,
            request_id=e.request_id, ref=e.ref, note=e.note, actor=e.actor))
        b = stock_balances.c
        stmt = dialect_insert(self.session)(stock_balances).values(
            warehouse=e.warehouse, sku=e.sku, on_hand=e.quantity, reserved=e.reserved,
            issued=e.issued)
        self.session.execute(stmt.on_conflict_do_update(
            index_elements=[b.warehouse, b.sku],
            set_={"on_hand": b.on_hand + stmt.excluded.on_hand,
                  "reserved": b.reserved + stmt.excluded.reserved,
                  "issued": b.issued + stmt.excluded.issued}))

    def positions(self, warehouse: str | None = None,
                  skus: list[str] | None = None) -> dict[str, StockPosition]:
        """``sku -> StockPosition`` in one warehouse."""
        b = stock_balances.c
        q = select(b.sku, b.on_hand, b.reserved, b.issued).where(b.warehouse == warehouse)
        if skus is not None:
            q = q.where(b.sku.in_(sorted(set(skus))))
        return {sku: StockPosition(int(q_), int(r), int(i))
                for sku, q_, r, i in self.session.execute(q).all()}

    def position(self, warehouse: str, sku: str) -> StockPosition:
        return self.positions(warehouse, [sku]).get(sku, StockPosition())

    def all_positions(self) -> dict[tuple[str, str], StockPosition]:
        b = stock_balances.c
        rows = self.session.execute(
            select(b.warehouse, b.sku, b.on_hand, b.reserved, b.issued)).all()
        return {(w, s): StockPosition(int(q), int(r), int(i)) for w, s, q, r, i in rows}

    def has_entries(self, warehouse: str, sku: str) -> bool:
        return self.session.execute(
            select(stock_ledger.c.id).where(stock_ledger.c.warehouse == warehouse,
                                            stock_ledger.c.sku == sku).limit(1)).first() is not None

    def holds(self, request_ids: list[str]) -> list[Hold]:
        """What each request holds: per request and SKU, reserved on the shelf and issued."""
        if not request_ids:
            return []
        c = stock_ledger.c
        rows = self.session.execute(
            select(c.request_id, c.sku, func.sum(c.reserved), func.sum(c.issued))
            .where(c.request_id.in_(request_ids)).group_by(c.request_id, c.sku)).all()
        return stock.holds(rows, request_ids)

    def book(self, now: datetime) -> stock.StockBook:
        """A stock book of this transaction, reading and appending through this repository."""
        return stock.StockBook(now, self.position, self.append)

    def opening(self, warehouse: str, before: datetime) -> dict[str, int]:
        c = stock_ledger.c
        rows = self.session.execute(
            select(c.sku, func.sum(c.quantity)).where(c.warehouse == warehouse,
                                                      c.created_at < before)
            .group_by(c.sku)).all()
        return {sku: int(n) for sku, n in rows}

    def between(self, warehouse: str, start: datetime, end: datetime) -> list[LedgerEntry]:
        c = stock_ledger.c
        q = (select(stock_ledger).where(c.warehouse == warehouse, c.created_at >= start,
                                        c.created_at < end).order_by(c.id))
        return [self._entry(r) for r in self.session.execute(q).mappings().all()]

    @staticmethod
    def _entry(r) -> LedgerEntry:
        return LedgerEntry(warehouse=r["warehouse"], sku=r["sku"], quantity=r["quantity"],
                           kind=r["kind"], created_at=r["created_at"],
                           ticket_no=r["ticket_no"], serial_no=r["serial_no"],
                           event_id=r["event_id"], reserved=r["reserved"], issued=r["issued"],
                           request_id=r["request_id"], ref=r["ref"], note=r["note"],
                           actor=r["actor"])

    def entries(self, warehouse: str, ticket_no: str | None = None, limit: int = 200,
                sku: str | None = None, request_id: str | None = None) -> list[LedgerEntry]:
        c = stock_ledger.c
        q = select(stock_ledger).where(c.warehouse == warehouse)
        if ticket_no is not None:
            q = q.where(c.ticket_no == ticket_no)
        if sku is not None:
            q = q.where(c.sku == sku)
        if request_id is not None:
            q = q.where(c.request_id == request_id)
        rows = self.session.execute(q.order_by(c.id.desc()).limit(limit)).mappings().all()
        return [self._entry(r) for r in reversed(rows)]


class ReorderRepository:
    def __init__(self, session: Session):
        self.session = session

    def get(self, warehouse: str, sku: str, default_point: int | None) -> ReorderState:
        row = self.session.execute(select(reorder_state).where(
            reorder_state.c.warehouse == warehouse, reorder_state.c.sku == sku)).mappings().first()
        if row is None:
            return ReorderState(default_point, False)
        point = row["reorder_point"] if row["reorder_point"] is not None else default_point
        return ReorderState(point, bool(row["below"]))

    def overrides(self, warehouse: str) -> dict[str, int]:
        rows = self.session.execute(select(reorder_state.c.sku, reorder_state.c.reorder_point)
                                    .where(reorder_state.c.warehouse == warehouse,
                                           reorder_state.c.reorder_point.is_not(None))).all()
        return {sku: int(p) for sku, p in rows}

    def save_below(self, warehouse: str, sku: str, below: bool) -> None:
        stmt = dialect_insert(self.session)(reorder_state).values(
            warehouse=warehouse, sku=sku, reorder_point=None, below=below)
        self.session.execute(stmt.on_conflict_do_update(
            index_elements=["warehouse", "sku"], set_={"below": below}))

    def set_point(self, warehouse: str, sku: str, point: int | None) -> None:
        stmt = dialect_insert(self.session)(reorder_state).values(
            warehouse=warehouse, sku=sku, reorder_point=point, below=False)
        self.session.execute(stmt.on_conflict_do_update(
            index_elements=["warehouse", "sku"], set_={"reorder_point": point}))


class PartsUnitOfWork(UnitOfWork):
    def _open(self, session):
        self.catalogue = CatalogueRepository(session)
        self.ledger = LedgerRepository(session)
        self.reorder = ReorderRepository(session)
        self.requests = RequestRepository(session)
        self.backorders = BackorderRepository(session)
        self.transfers = TransferRepository(session)
        self.returns = ReturnRepository(session)
