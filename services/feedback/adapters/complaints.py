"""Complaints (from intake's complaint tickets and from agents)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select, update

from ..domain.complaints import OPEN, Complaint
from .orm import complaints
from .rows import Repository, dumps, from_row, loads, where_given


def _complaint(row) -> Complaint:
    return from_row(Complaint, row, notes=loads(row["notes"], []))


class ComplaintRepository(Repository):
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

    def claim(self, complaint_id: str) -> Complaint | None:
        """The complaint, locked, for the scheduler: on PostgreSQL None while another
        transaction holds it (SKIP LOCKED: another scheduler escalating it, or a person
        changing it; the next pass sees it again)."""
        row = self.session.execute(self.skip_locked(
            select(complaints).where(complaints.c.complaint_id == complaint_id))).mappings().first()
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
        q = where_given(select(complaints).order_by(complaints.c.registered_at).limit(limit),
                        complaints, branch=branch, status=status, ticket_no=ticket_no)
        return [_complaint(r) for r in self.session.execute(q).mappings().all()]

    def overdue(self, now: datetime, max_level: int, limit: int = 200) -> list[str]:
        """Open complaints past their deadline; not locked: the escalation claims each."""
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
