"""Parts' repositories over its tables."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from aftersales.outbox import UnitOfWork

from ..domain.model import LedgerEntry, Part
from .orm import parts, stock_ledger


def _aware(dt: datetime) -> datetime:
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt


class CatalogueRepository:
    def __init__(self, session: Session):
        self.session = session

    def upsert(self, p: Part) -> None:
        values = {"sku": p.sku, "name": p.name, "unit": p.unit, "cost_price": p.cost_price,
                  "price": p.price}
        ins = pg_insert if self.session.bind.dialect.name == "postgresql" else sqlite_insert
        stmt = ins(parts).values(**values).on_conflict_do_update(
            index_elements=["sku"], set_={k: v for k, v in values.items() if k != "sku"})
        self.session.execute(stmt)

    def all(self) -> list[Part]:
        rows = self.session.execute(select(parts).order_by(parts.c.sku)).mappings().all()
        return [Part(sku=r["sku"], name=r["name"], unit=r["unit"],
                     cost_price=Decimal(r["cost_price"]), price=Decimal(r["price"])) for r in rows]

    def lock(self, skus: list[str]) -> None:
        """Serialise stock movements of these SKUs until the transaction ends (row locks in
        SKU order on PostgreSQL; SQLite's write transaction already serialises)."""
        if skus:
            self.session.execute(select(parts.c.sku).where(parts.c.sku.in_(sorted(set(skus))))
                                 .order_by(parts.c.sku).with_for_update()).all()

    def count(self) -> int:
        return int(self.session.execute(select(func.count()).select_from(parts)).scalar_one())


class LedgerRepository:
    """The stock ledger: append and read, never change."""

    def __init__(self, session: Session):
        self.session = session

    def append(self, e: LedgerEntry) -> None:
        self.session.execute(stock_ledger.insert().values(
            warehouse=e.warehouse, sku=e.sku, quantity=e.quantity, kind=e.kind,
            ticket_no=e.ticket_no, serial_no=e.serial_no, event_id=e.event_id,
            created_at=e.created_at))

    def on_hand(self, warehouse: str, skus: list[str] | None = None) -> dict[str, int]:
        """``sku -> on hand`` in one warehouse (SKUs without movements are absent)."""
        q = (select(stock_ledger.c.sku, func.sum(stock_ledger.c.quantity))
             .where(stock_ledger.c.warehouse == warehouse).group_by(stock_ledger.c.sku))
        if skus is not None:
            q = q.where(stock_ledger.c.sku.in_(skus))
        return {sku: int(total) for sku, total in self.session.execute(q).all()}

    def totals(self) -> list[tuple[str, str, int]]:
        """``(warehouse, sku, on hand)`` for every pair with movements."""
        rows = self.session.execute(
            select(stock_ledger.c.warehouse, stock_ledger.c.sku, func.sum(stock_ledger.c.quantity))
            .group_by(stock_ledger.c.warehouse, stock_ledger.c.sku)).all()
        return [(w, s, int(n)) for w, s, n in rows]

    def has_entries(self, warehouse: str, sku: str) -> bool:
        return self.session.execute(
            select(stock_ledger.c.id).where(stock_ledger.c.warehouse == warehouse,
                                            stock_ledger.c.sku == sku).limit(1)).first() is not None

    def entries(self, warehouse: str, ticket_no: str | None = None,
                limit: int = 200) -> list[LedgerEntry]:
        q = select(stock_ledger).where(stock_ledger.c.warehouse == warehouse)
        if ticket_no is not None:
            q = q.where(stock_ledger.c.ticket_no == ticket_no)
        rows = self.session.execute(q.order_by(stock_ledger.c.id.desc()).limit(limit)).mappings().all()
        return [LedgerEntry(warehouse=r["warehouse"], sku=r["sku"], quantity=r["quantity"],
                            kind=r["kind"], created_at=_aware(r["created_at"]),
                            ticket_no=r["ticket_no"], serial_no=r["serial_no"],
                            event_id=r["event_id"]) for r in reversed(rows)]


class PartsUnitOfWork(UnitOfWork):
    def _open(self, session):
        self.catalogue = CatalogueRepository(session)
        self.ledger = LedgerRepository(session)
