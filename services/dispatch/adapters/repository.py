"""Dispatch's repositories over its tables."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from aftersales.contracts.envelope import utcnow
from aftersales.outbox import UnitOfWork

from ..domain.model import BUSY_STATES, Assignment, Engineer, Job
from .orm import assignments, engineers, jobs

_TIMES = ("received_at", "created_at", "assigned_at", "accepted_at", "checked_in_at",
          "completed_at")


def _utc(dt: datetime | None) -> datetime | None:
    """Stored in UTC (SQLite keeps no offset); read back as aware UTC."""
    if dt is None:
        return None
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


def _insert(session: Session):
    return pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert


class EngineerRepository:
    def __init__(self, session: Session):
        self.session = session

    def upsert(self, e: Engineer) -> None:
        values = {"engineer_id": e.engineer_id, "name": e.name, "branch": e.branch,
                  "role": e.role, "skills": list(e.skills), "active": e.active,
                  "max_jobs": e.max_jobs}
        stmt = _insert(self.session)(engineers).values(**values)
        self.session.execute(stmt.on_conflict_do_update(
            index_elements=["engineer_id"],
            set_={k: v for k, v in values.items() if k != "engineer_id"}))

    def of_branch(self, branch: str, lock: bool = False) -> list[Engineer]:
        """The branch's roster. ``lock`` takes the rows FOR UPDATE (PostgreSQL), so concurrent
        assignments in one branch queue up and never overbook an engineer (SQLite already
        serialises writers)."""
        query = select(engineers).where(engineers.c.branch == branch).order_by(engineers.c.engineer_id)
        if lock:
            query = query.with_for_update()
        return [Engineer(engineer_id=r["engineer_id"], name=r["name"], branch=r["branch"],
                         skills=tuple(r["skills"] or ()), active=bool(r["active"]),
                         max_jobs=int(r["max_jobs"]), role=r["role"])
                for r in self.session.execute(query).mappings()]

    def count(self) -> int:
        return int(self.session.execute(select(func.count()).select_from(engineers)).scalar_one())


class JobRepository:
    def __init__(self, session: Session):
        self.session = session

    def get(self, ticket_no: str, lock: bool = False) -> Job | None:
        query = select(jobs).where(jobs.c.ticket_no == ticket_no)
        if lock:
            query = query.with_for_update()
        row = self.session.execute(query).mappings().first()
        return _job(row) if row else None

    def add(self, job: Job, opened_event_id: str) -> None:
        self.session.execute(jobs.insert().values(
            **_values(job), opened_event_id=opened_event_id, updated_at=utcnow()))

    def save(self, job: Job) -> None:
        values = _values(job)
        values.pop("ticket_no")
        self.session.execute(update(jobs).where(jobs.c.ticket_no == job.ticket_no)
                             .values(**values, updated_at=utcnow()))

    def add_assignment(self, ticket_no: str, a: Assignment, at: datetime) -> None:
        self.session.execute(assignments.insert().values(
            ticket_no=ticket_no, engineer_id=a.engineer.engineer_id if a.engineer else None,
            escalated_to=a.escalated_to, reason=a.reason,
            ranking=[c.as_dict() for c in a.ranking], decided_at=at))

    def assignments(self, ticket_no: str) -> list[dict]:
        rows = self.session.execute(
            select(assignments.c.engineer_id, assignments.c.escalated_to, assignments.c.reason,
                   assignments.c.ranking, assignments.c.decided_at)
            .where(assignments.c.ticket_no == ticket_no).order_by(assignments.c.id)).mappings()
        return [{**dict(r), "decided_at": _utc(r["decided_at"])} for r in rows]

    def workload(self, branch: str) -> dict[str, int]:
        """Open (busy) jobs per engineer of the branch."""
        rows = self.session.execute(
            select(jobs.c.engineer_id, func.count())
            .where(jobs.c.branch == branch, jobs.c.status.in_(BUSY_STATES),
                   jobs.c.engineer_id.is_not(None))
            .group_by(jobs.c.engineer_id)).all()
        return {eng: int(n) for eng, n in rows}

    def find(self, branch: str | None = None, status: str | None = None,
             engineer_id: str | None = None, limit: int = 100) -> list[Job]:
        query = select(jobs)
        if branch:
            query = query.where(jobs.c.branch == branch)
        if status:
            query = query.where(jobs.c.status == status)
        if engineer_id:
            query = query.where(jobs.c.engineer_id == engineer_id)
        query = query.order_by(jobs.c.received_at, jobs.c.ticket_no).limit(limit)
        return [_job(r) for r in self.session.execute(query).mappings()]

    def counts_by(self) -> list[tuple[str, str, str, int]]:
        return [(s, p, b, int(n)) for s, p, b, n in self.session.execute(
            select(jobs.c.status, jobs.c.priority, jobs.c.branch, func.count())
            .group_by(jobs.c.status, jobs.c.priority, jobs.c.branch)).all()]


def _values(job: Job) -> dict:
    values = {k: getattr(job, k) for k in Job.__dataclass_fields__}
    for k in _TIMES:
        values[k] = _utc(values[k])
    return values


def _job(row) -> Job:
    values = {k: row[k] for k in Job.__dataclass_fields__}
    for k in _TIMES:
        values[k] = _utc(values[k])
    values["parts_used"] = list(values["parts_used"] or [])
    return Job(**values)


class DispatchUnitOfWork(UnitOfWork):
    def _open(self, session):
        self.engineers = EngineerRepository(session)
        self.jobs = JobRepository(session)
