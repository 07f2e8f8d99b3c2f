"""Parts' repositories over its tables."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from aftersales.outbox import UnitOfWork

from ..domain.model import Hold, LedgerEntry, Line, Part, ReorderState, StockPosition
from ..domain.requests import ACTIVE, Backorder, PartsRequest, RequestLine, Transfer
from ..domain.returns import PartReturn
from .orm import (backorders, part_returns, parts, parts_requests, reorder_state,
                  stock_ledger, transfers)



def _insert(session: Session):
    return pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert


class CatalogueRepository:
    def __init__(self, session: Session):
        self.session = session

    def upsert(self, p: Part) -> None:
        values = {"sku": p.sku, "name": p.name, "unit": p.unit, "cost_price": p.cost_price,
                  "price": p.price, "compatible_models": list(p.compatible_models),
                  "lead_time_days": p.lead_time_days, "reorder_point": p.reorder_point}
        stmt = _insert(self.session)(parts).values(**values).on_conflict_do_update(
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
    """The stock ledger: append and read, never change."""

    def __init__(self, session: Session):
        self.session = session

    def append(self, e: LedgerEntry) -> None:
        self.session.execute(stock_ledger.insert().values(
            warehouse=e.warehouse, sku=e.sku, quantity=e.quantity, kind=e.kind,
            ticket_no=e.ticket_no, serial_no=e.serial_no, event_id=e.event_id,
            created_at=e.created_at, reserved=e.reserved, issued=e.issued,
            request_id=e.request_id, ref=e.ref, note=e.note, actor=e.actor))

    def on_hand(self, warehouse: str, skus: list[str] | None = None) -> dict[str, int]:
        """``sku -> on hand`` in one warehouse (SKUs without movements are absent)."""
        return {sku: p.on_hand for sku, p in self.positions(warehouse, skus).items()}

    def available(self, warehouse: str, skus: list[str] | None = None) -> dict[str, int]:
        return {sku: p.available for sku, p in self.positions(warehouse, skus).items()}

    def positions(self, warehouse: str | None = None,
                  skus: list[str] | None = None) -> dict[str, StockPosition]:
        """``sku -> StockPosition`` in one warehouse."""
        c = stock_ledger.c
        q = (select(c.sku, func.sum(c.quantity), func.sum(c.reserved), func.sum(c.issued))
             .where(c.warehouse == warehouse).group_by(c.sku))
        if skus is not None:
            q = q.where(c.sku.in_(sorted(set(skus))))
        return {sku: StockPosition(int(q_), int(r), int(i))
                for sku, q_, r, i in self.session.execute(q).all()}

    def position(self, warehouse: str, sku: str) -> StockPosition:
        return self.positions(warehouse, [sku]).get(sku, StockPosition())

    def all_positions(self) -> dict[tuple[str, str], StockPosition]:
        c = stock_ledger.c
        rows = self.session.execute(
            select(c.warehouse, c.sku, func.sum(c.quantity), func.sum(c.reserved),
                   func.sum(c.issued)).group_by(c.warehouse, c.sku)).all()
        return {(w, s): StockPosition(int(q), int(r), int(i)) for w, s, q, r, i in rows}

    def totals(self) -> list[tuple[str, str, int]]:
        """``(warehouse, sku, on hand)`` for every pair with movements."""
        return [(w, s, p.on_hand) for (w, s), p in self.all_positions().items()]

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
        by_req = {}
        for rid, sku, r, i in rows:
            r, i = int(r), int(i)
            if r:
                by_req.setdefault(rid, []).append(Hold(rid, sku, shelf=r - i, issued=i))
        return [h for rid in request_ids for h in sorted(by_req.get(rid, []), key=lambda h: h.sku)]

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

    def all_entries(self) -> list[LedgerEntry]:
        rows = self.session.execute(select(stock_ledger).order_by(stock_ledger.c.id)).mappings()
        return [self._entry(r) for r in rows.all()]


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
        stmt = _insert(self.session)(reorder_state).values(
            warehouse=warehouse, sku=sku, reorder_point=None, below=below)
        self.session.execute(stmt.on_conflict_do_update(
            index_elements=["warehouse", "sku"], set_={"below": below}))

    def set_point(self, warehouse: str, sku: str, point: int | None) -> None:
        stmt = _insert(self.session)(reorder_state).values(
            warehouse=warehouse, sku=sku, reorder_point=point, below=False)
        self.session.execute(stmt.on_conflict_do_update(
            index_elements=["warehouse", "sku"], set_={"reorder_point": point}))


class RequestRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, r: PartsRequest, source_event_id: str | None = None) -> None:
        self.session.execute(parts_requests.insert().values(
            id=r.request_id, ticket_no=r.ticket_no, branch=r.branch, status=r.status,
            in_warranty=r.in_warranty, lines=[line.as_dict() for line in r.lines],
            requested_by=r.requested_by, source=r.source, source_event_id=source_event_id,
            note=r.note, decided_by=r.decided_by, decided_at=r.decided_at,
            auto_approved=r.auto_approved, reason=r.reason, history=list(r.history),
            created_at=r.created_at, updated_at=r.created_at))

    def save(self, r: PartsRequest, at: datetime) -> None:
        self.session.execute(parts_requests.update().where(parts_requests.c.id == r.request_id)
                             .values(status=r.status, decided_by=r.decided_by,
                                     decided_at=r.decided_at, auto_approved=r.auto_approved,
                                     reason=r.reason, history=list(r.history), updated_at=at))

    @staticmethod
    def _request(row) -> PartsRequest:
        return PartsRequest(
            request_id=row["id"], ticket_no=row["ticket_no"], branch=row["branch"],
            in_warranty=bool(row["in_warranty"]),
            lines=tuple(RequestLine.from_dict(d) for d in row["lines"]),
            requested_by=row["requested_by"], created_at=row["created_at"],
            source=row["source"], status=row["status"], note=row["note"],
            decided_by=row["decided_by"], decided_at=row["decided_at"],
            auto_approved=bool(row["auto_approved"]), reason=row["reason"],
            history=list(row["history"] or []))

    def get(self, request_id: str, lock: bool = False) -> PartsRequest | None:
        q = select(parts_requests).where(parts_requests.c.id == request_id)
        if lock:
            q = q.with_for_update()
        row = self.session.execute(q).mappings().first()
        return self._request(row) if row else None

    def by_event(self, event_id: str) -> PartsRequest | None:
        row = self.session.execute(select(parts_requests).where(
            parts_requests.c.source_event_id == event_id)).mappings().first()
        return self._request(row) if row else None

    def for_ticket(self, ticket_no: str, statuses=None, lock: bool = False) -> list[PartsRequest]:
        q = select(parts_requests).where(parts_requests.c.ticket_no == ticket_no)
        if statuses:
            q = q.where(parts_requests.c.status.in_(statuses))
        q = q.order_by(parts_requests.c.created_at, parts_requests.c.id)
        if lock:
            q = q.with_for_update()
        return [self._request(r) for r in self.session.execute(q).mappings().all()]

    def search(self, branch: str | None, status: str | None, ticket_no: str | None,
               limit: int) -> list[PartsRequest]:
        q = select(parts_requests)
        if branch:
            q = q.where(parts_requests.c.branch == branch)
        if status:
            q = q.where(parts_requests.c.status == status)
        if ticket_no:
            q = q.where(parts_requests.c.ticket_no == ticket_no)
        q = q.order_by(parts_requests.c.created_at.desc(), parts_requests.c.id).limit(limit)
        return [self._request(r) for r in self.session.execute(q).mappings().all()]

    def active_ids(self, ticket_no: str) -> list[str]:
        return [r.request_id for r in self.for_ticket(ticket_no, ACTIVE)]


class BackorderRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, b: Backorder) -> None:
        self.session.execute(backorders.insert().values(
            id=b.backorder_id, request_id=b.request_id, ticket_no=b.ticket_no,
            warehouse=b.warehouse, sku=b.sku, quantity=b.quantity,
            lead_time_days=b.lead_time_days, expected_at=b.expected_at, status=b.status,
            created_at=b.created_at, closed_at=b.closed_at))

    def save(self, b: Backorder) -> None:
        self.session.execute(backorders.update().where(backorders.c.id == b.backorder_id)
                             .values(status=b.status, closed_at=b.closed_at))

    @staticmethod
    def _backorder(r) -> Backorder:
        return Backorder(backorder_id=r["id"], request_id=r["request_id"],
                         ticket_no=r["ticket_no"], warehouse=r["warehouse"], sku=r["sku"],
                         quantity=r["quantity"], lead_time_days=r["lead_time_days"],
                         expected_at=r["expected_at"], created_at=r["created_at"],
                         status=r["status"], closed_at=r["closed_at"])

    def get(self, backorder_id: str, lock: bool = False) -> Backorder | None:
        q = select(backorders).where(backorders.c.id == backorder_id)
        if lock:
            q = q.with_for_update()
        row = self.session.execute(q).mappings().first()
        return self._backorder(row) if row else None

    def for_request(self, request_id: str, status: str | None = None) -> list[Backorder]:
        q = select(backorders).where(backorders.c.request_id == request_id)
        if status:
            q = q.where(backorders.c.status == status)
        rows = self.session.execute(q.order_by(backorders.c.created_at, backorders.c.id))
        return [self._backorder(r) for r in rows.mappings().all()]

    def search(self, warehouse: str | None, status: str | None, limit: int) -> list[Backorder]:
        q = select(backorders)
        if warehouse:
            q = q.where(backorders.c.warehouse == warehouse)
        if status:
            q = q.where(backorders.c.status == status)
        rows = self.session.execute(q.order_by(backorders.c.created_at.desc()).limit(limit))
        return [self._backorder(r) for r in rows.mappings().all()]


class TransferRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, t: Transfer) -> None:
        self.session.execute(transfers.insert().values(
            id=t.transfer_id, request_id=t.request_id, ticket_no=t.ticket_no,
            from_warehouse=t.from_warehouse, to_warehouse=t.to_warehouse,
            lines=[line.as_dict() for line in t.lines], status=t.status,
            created_at=t.created_at, expected_at=t.expected_at, received_at=t.received_at,
            received_by=t.received_by))

    def save(self, t: Transfer) -> None:
        self.session.execute(transfers.update().where(transfers.c.id == t.transfer_id).values(
            status=t.status, received_at=t.received_at, received_by=t.received_by))

    @staticmethod
    def _transfer(r) -> Transfer:
        return Transfer(transfer_id=r["id"], from_warehouse=r["from_warehouse"],
                        to_warehouse=r["to_warehouse"],
                        lines=tuple(Line(d["sku"], int(d["quantity"])) for d in r["lines"]),
                        created_at=r["created_at"], expected_at=r["expected_at"],
                        request_id=r["request_id"], ticket_no=r["ticket_no"], status=r["status"],
                        received_at=r["received_at"], received_by=r["received_by"])

    def get(self, transfer_id: str, lock: bool = False) -> Transfer | None:
        q = select(transfers).where(transfers.c.id == transfer_id)
        if lock:
            q = q.with_for_update()
        row = self.session.execute(q).mappings().first()
        return self._transfer(row) if row else None

    def for_request(self, request_id: str) -> list[Transfer]:
        rows = self.session.execute(select(transfers).where(transfers.c.request_id == request_id)
                                    .order_by(transfers.c.created_at, transfers.c.id))
        return [self._transfer(r) for r in rows.mappings().all()]

    def search(self, warehouse: str | None, status: str | None, limit: int) -> list[Transfer]:
        q = select(transfers)
        if warehouse:
            q = q.where((transfers.c.to_warehouse == warehouse)
                        | (transfers.c.from_warehouse == warehouse))
        if status:
            q = q.where(transfers.c.status == status)
        rows = self.session.execute(q.order_by(transfers.c.created_at.desc()).limit(limit))
        return [self._transfer(r) for r in rows.mappings().all()]


class ReturnRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, r: PartReturn) -> None:
        self.session.execute(part_returns.insert().values(**self._values(r)))

    @staticmethod
    def _values(r: PartReturn) -> dict:
        return dict(id=r.return_id, branch=r.branch, ticket_no=r.ticket_no, sku=r.sku,
                    serial_no=r.serial_no, model=r.model, fault=r.fault, status=r.status,
                    decision=r.decision, note=r.note, received_by=r.received_by,
                    received_at=r.received_at, inspected_by=r.inspected_by,
                    inspected_at=r.inspected_at)

    def save(self, r: PartReturn) -> None:
        values = self._values(r)
        values.pop("id")
        self.session.execute(part_returns.update().where(part_returns.c.id == r.return_id)
                             .values(**values))

    @staticmethod
    def _return(row) -> PartReturn:
        return PartReturn(return_id=row["id"], branch=row["branch"], sku=row["sku"],
                          serial_no=row["serial_no"], model=row["model"], fault=row["fault"],
                          received_by=row["received_by"], received_at=row["received_at"],
                          ticket_no=row["ticket_no"], status=row["status"],
                          decision=row["decision"], note=row["note"],
                          inspected_by=row["inspected_by"],
                          inspected_at=row["inspected_at"])

    def get(self, return_id: str, lock: bool = False) -> PartReturn | None:
        q = select(part_returns).where(part_returns.c.id == return_id)
        if lock:
            q = q.with_for_update()
        row = self.session.execute(q).mappings().first()
        return self._return(row) if row else None

    def search(self, branch: str | None = None, status: str | None = None,
               model: str | None = None, since: datetime | None = None,
               until: datetime | None = None, limit: int | None = None) -> list[PartReturn]:
        c = part_returns.c
        conds = []
        if branch:
            conds.append(c.branch == branch)
        if status:
            conds.append(c.status == status)
        if model:
            conds.append(c.model == model)
        if since:
            conds.append(c.received_at >= since)
        if until:
            conds.append(c.received_at < until)
        q = select(part_returns)
        if conds:
            q = q.where(and_(*conds))
        q = q.order_by(c.received_at.desc(), c.id)
        if limit:
            q = q.limit(limit)
        return [self._return(r) for r in self.session.execute(q).mappings().all()]


class PartsUnitOfWork(UnitOfWork):
    def _open(self, session):
        self.catalogue = CatalogueRepository(session)
        self.ledger = LedgerRepository(session)
        self.reorder = ReorderRepository(session)
        self.requests = RequestRepository(session)
        self.backorders = BackorderRepository(session)
        self.transfers = TransferRepository(session)
        self.returns = ReturnRepository(session)
