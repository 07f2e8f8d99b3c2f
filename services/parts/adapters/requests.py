"""The repositories of parts requests and what serves them: transfers between branch
warehouses and backorders with suppliers."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.model import Line
from ..domain.requests import Backorder, PartsRequest, RequestLine, Transfer
from .orm import backorders, parts_requests, transfers
from .rows import by_id


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
        row = by_id(self.session, parts_requests, request_id, lock)
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
        row = by_id(self.session, backorders, backorder_id, lock)
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
        row = by_id(self.session, transfers, transfer_id, lock)
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
