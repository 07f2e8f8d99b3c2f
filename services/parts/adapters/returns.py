"""The repository of faulty parts returned for QC (RMA)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from ..domain.returns import PartReturn
from .orm import part_returns
from .rows import by_id


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
        row = by_id(self.session, part_returns, return_id, lock)
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
