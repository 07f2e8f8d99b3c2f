"""Complaints (from intake's complaint tickets and from agents)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from ..domain.complaints import OPEN, Complaint
from .json_columns import dumps, loads
from .orm import complaints


def _complaint(row) -> Complaint:
    return Complaint(complaint_id=row["complaint_id"], ticket_no=row["ticket_no"],
                     branch=row["branch"], source=row["source"], severity=row["severity"],
                     description=row["description"], registered_at=row["registered_at"],
                     deadline=row["deadline"], owner=row["owner"], status=row["status"],
                     escalation_level=row["escalation_level"], notes=loads(row["notes"], []),
                     resolution=row["resolution"], resolved_at=row["resolved_at"],
                     resolved_by=row["resolved_by"], confirmed_at=row["confirmed_at"],
                     satisfied=row["satisfied"], engineer_id=row["engineer_id"])


class ComplaintRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, c: Complaint, source_event_id: str | None = None) -> None:
        self.session.execute(complaints.insert().values(
            complaint_id=c.complaint_id, ticket_no=c.ticket_no, branch=c.branch, source=c.source,
            source_event_id=source_event_id, severity=c.severity, description=c.description,
            owner=c.owner, engineer_id=c.engineer_id, registered_at=c.registered_at,
            deadline=c.deadline, status=c.status, escalation_level=c.escalation_level,
            notes=dumps(c.notes)))

    def get(self, complaint_id: str, lock: bool = True) -> Complaint | None:
        q = select(complaints).where(complaints.c.complaint_id == complaint_id)
        row = self.session.execute(q.with_for_update() if lock else q).mappings().first()
        return _complaint(row) if row else None

    def save(self, c: Complaint) -> None:
        self.session.execute(update(complaints).where(complaints.c.complaint_id == c.complaint_id)
                             .values(owner=c.owner, deadline=c.deadline, status=c.status,
                                     escalation_level=c.escalation_level, notes=dumps(c.notes),
                                     resolution=c.resolution, resolved_at=c.resolved_at,
                                     resolved_by=c.resolved_by, confirmed_at=c.confirmed_at,
                                     satisfied=c.satisfied))

    def list(self, branch: str | None, status: str | None, ticket_no: str | None = None,
             limit: int = 200) -> list[Complaint]:
        q = select(complaints).order_by(complaints.c.registered_at).limit(limit)
        if branch:
            q = q.where(complaints.c.branch == branch)
        if status:
            q = q.where(complaints.c.status == status)
        if ticket_no:
            q = q.where(complaints.c.ticket_no == ticket_no)
        return [_complaint(r) for r in self.session.execute(q).mappings().all()]

    def overdue(self, now: datetime, max_level: int, limit: int = 200) -> list[str]:
        return [r[0] for r in self.session.execute(
            select(complaints.c.complaint_id).where(
                complaints.c.status == OPEN, complaints.c.deadline <= now,
                complaints.c.escalation_level < max_level)
            .order_by(complaints.c.deadline).limit(limit)).all()]

    def touching(self, branch: str, start: datetime, end: datetime) -> list[Complaint]:
        def between(c):
            return and_(c >= start, c < end)
        q = select(complaints).where(complaints.c.branch == branch, or_(
            between(complaints.c.registered_at), between(complaints.c.resolved_at),
            between(complaints.c.confirmed_at)))
        return [_complaint(r) for r in self.session.execute(q).mappings().all()]
