"""Dispatch's repositories over its tables (the SLA clocks' in ``sla_clocks.py``) and its unit
of work."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from aftersales.contracts.envelope import utcnow
from aftersales.db import dialect_insert
from aftersales.outbox import UnitOfWork
from aftersales.reference import timezone_of

from ..domain.model import ASSIGNED, BUSY_STATES, ON_SITE_STATES, OPEN_STATES, Job
from ..domain.policy import shift_calendar
from ..domain.roster import Assignment, Engineer, calendar_doc
from .kept_tickets import KeptTicketRepository
from .orm import assignments, early_events, engineers, job_evidence, job_reports, jobs
from .sla_clocks import SlaRepository


class EngineerRepository:
    """The roster. A branch's roster is read once per unit of work (``of_branch``): kept for
    the transaction, read again only to take its lock and after any ``upsert``."""

    def __init__(self, session: Session):
        self.session = session
        self._rosters: dict[str, tuple[bool, list[Engineer]]] = {}   # branch -> (locked, roster)

    def upsert(self, e: Engineer) -> bool:
        """Insert or replace one person; True when new."""
        new = self.get(e.engineer_id) is None
        values = {"engineer_id": e.engineer_id, "name": e.name, "branch": e.branch,
                  "role": e.role, "skills": list(e.skills), "active": e.active,
                  "max_jobs": e.max_jobs, "zone": e.zone, "skill_levels": dict(e.levels),
                  "shift": calendar_doc(e.shift),
                  "leave": [[a.isoformat(), b.isoformat()] for a, b in e.leave]}
        stmt = dialect_insert(self.session)(engineers).values(**values)
        self._rosters.clear()
        self.session.execute(stmt.on_conflict_do_update(
            index_elements=["engineer_id"],
            set_={k: v for k, v in values.items() if k != "engineer_id"}))
        return new

    def of_branch(self, branch: str, lock: bool = False) -> list[Engineer]:
        """The branch's roster. ``lock`` takes the rows FOR UPDATE (PostgreSQL), so concurrent
        assignments in one branch queue up and never overbook an engineer (SQLite already
        serialises writers). Read once per unit of work: the rows as read are kept (a lock,
        once taken, holds until the transaction ends), read again only when ``lock`` is asked
        and they were read without it."""
        kept = self._rosters.get(branch)
        if kept is None or (lock and not kept[0]):
            query = select(engineers).where(engineers.c.branch == branch).order_by(engineers.c.engineer_id)
            if lock:
                query = query.with_for_update()
            kept = (lock, [_engineer(r) for r in self.session.execute(query).mappings()])
            self._rosters[branch] = kept
        return list(kept[1])

    def get(self, engineer_id: str) -> Engineer | None:
        row = self.session.execute(
            select(engineers).where(engineers.c.engineer_id == engineer_id)).mappings().first()
        return _engineer(row) if row else None

    def all(self, branch: str | None = None) -> list[tuple[Engineer, dict | None]]:
        """Everyone (of ``branch``), with the shift document as stored."""
        query = select(engineers).order_by(engineers.c.engineer_id)
        if branch:
            query = query.where(engineers.c.branch == branch)
        return [(_engineer(r), r["shift"]) for r in self.session.execute(query).mappings()]

    def count(self) -> int:
        return int(self.session.execute(select(func.count()).select_from(engineers)).scalar_one())


def _engineer(r) -> Engineer:
    leave = tuple((datetime.fromisoformat(a).astimezone(timezone.utc),
                   datetime.fromisoformat(b).astimezone(timezone.utc))
                  for a, b in (r["leave"] or ()))
    return Engineer(engineer_id=r["engineer_id"], name=r["name"], branch=r["branch"],
                    skills=tuple(r["skills"] or ()), active=bool(r["active"]),
                    max_jobs=int(r["max_jobs"]), role=r["role"], zone=r["zone"],
                    levels=dict(r["skill_levels"] or {}),
                    shift=shift_calendar(r["shift"], tz=timezone_of(r["branch"])),
                    leave=leave)


class JobRepository:
    def __init__(self, session: Session):
        self.session = session
        # workload(keep=True): branch -> {engineer of the branch: busy jobs}, zeros included;
        # ``add`` counts a new busy job in, ``save`` forgets them all (a status may change)
        self._workloads: dict[str, dict[str, int]] = {}

    def get(self, ticket_no: str, lock: bool = False) -> Job | None:
        query = select(jobs).where(jobs.c.ticket_no == ticket_no)
        if lock:
            query = query.with_for_update()
        row = self.session.execute(query).mappings().first()
        return _job(row) if row else None

    def add(self, job: Job, opened_event_id: str) -> None:
        # parameters, not .values(): the statement is compiled once and cached (hot: every
        # ticket_opened)
        self.session.execute(jobs.insert(), {**_values(job), "opened_event_id": opened_event_id,
                                             "updated_at": utcnow()})
        if job.engineer_id and job.status in BUSY_STATES:
            for load in self._workloads.values():
                if job.engineer_id in load:
                    load[job.engineer_id] += 1

    def save(self, job: Job, expect: tuple[str, str | None] | None = None) -> bool:
        """Write the job. With ``expect`` = (status, engineer_id) as read, only if the row still
        has them (compare-and-set for the timer, which must not overwrite a step an engineer
        committed meanwhile; SQLite takes no row locks). True if written."""
        values = _values(job)
        values.pop("ticket_no")
        self._workloads.clear()
        query = update(jobs).where(jobs.c.ticket_no == job.ticket_no)
        if expect is not None:
            status, engineer_id = expect
            query = query.where(jobs.c.status == status,
                                jobs.c.engineer_id.is_(None) if engineer_id is None
                                else jobs.c.engineer_id == engineer_id)
        return self.session.execute(query.values(**values, updated_at=utcnow())).rowcount == 1

    def mark_reminded(self, job: Job, at: datetime) -> bool:
        """Record a progress reminder, only if no report came in since the job was read."""
        c = jobs.c
        return self.session.execute(update(jobs).where(
            c.ticket_no == job.ticket_no, c.status.in_(ON_SITE_STATES),
            c.last_report_at == job.last_report_at)
            .values(report_reminded_at=at)).rowcount == 1

    def add_assignment(self, ticket_no: str, a: Assignment, at: datetime) -> None:
        self.session.execute(assignments.insert(), {
            "ticket_no": ticket_no, "engineer_id": a.engineer.engineer_id if a.engineer else None,
            "escalated_to": a.escalated_to, "reason": a.reason,
            "ranking": [c.as_dict() for c in a.ranking]
            + [{**c.as_dict(), "offered": True} for c in a.offered], "decided_at": at})

    def assignments(self, ticket_no: str) -> list[dict]:
        rows = self.session.execute(
            select(assignments.c.engineer_id, assignments.c.escalated_to, assignments.c.reason,
                   assignments.c.ranking, assignments.c.decided_at)
            .where(assignments.c.ticket_no == ticket_no).order_by(assignments.c.id)).mappings()
        return [dict(r) for r in rows]

    def workload(self, branch: str, keep: bool = False) -> dict[str, int]:
        """Open (busy) jobs per engineer of the branch, wherever the jobs are (an engineer
        lent to a neighbouring branch carries those jobs too); engineers without any are left
        out.

        ``keep``: read once per unit of work and kept, counting in the jobs this unit of work
        adds (``add``) until it saves one (``save``: read again). Only for a branch whose
        roster lock is held (``assigning.decide``): nobody else assigns in it meanwhile."""
        load = self._workloads.get(branch) if keep else None
        if load is None:
            busy = jobs.c.engineer_id == engineers.c.engineer_id
            rows = self.session.execute(
                select(engineers.c.engineer_id, func.count(jobs.c.ticket_no))
                .select_from(engineers.outerjoin(jobs, busy & jobs.c.status.in_(BUSY_STATES)))
                .where(engineers.c.branch == branch)
                .group_by(engineers.c.engineer_id)).all()
            load = {eng: int(n) for eng, n in rows}
            if keep:
                self._workloads[branch] = load
        return {eng: n for eng, n in load.items() if n}

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

    def find_open(self, branch: str | None = None) -> list[Job]:
        query = select(jobs).where(jobs.c.status.in_(OPEN_STATES))
        if branch:
            query = query.where(jobs.c.branch == branch)
        return [_job(r) for r in self.session.execute(
            query.order_by(jobs.c.received_at, jobs.c.ticket_no)).mappings()]

    def awaiting_acceptance(self, assigned_before: datetime, limit: int = 50) -> list[Job]:
        """Assigned jobs not accepted since ``assigned_before``; not locked: the timer locks
        each one after its branch's roster (the lock order)."""
        query = (select(jobs).where(jobs.c.status == ASSIGNED, jobs.c.assigned_at <= assigned_before)
                 .order_by(jobs.c.assigned_at).limit(limit))
        return [_job(r) for r in self.session.execute(query).mappings()]

    def reports_due(self, cutoff: datetime, limit: int = 200) -> list[Job]:
        """Jobs on site whose last report (and last reminder) is older than ``cutoff``."""
        c = jobs.c
        query = (select(jobs).where(
            c.status.in_(ON_SITE_STATES), c.last_report_at <= cutoff,
            or_(c.report_reminded_at.is_(None), c.report_reminded_at <= cutoff))
            .order_by(c.last_report_at).limit(limit))
        if self.session.bind.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return [_job(r) for r in self.session.execute(query).mappings()]

    def add_report(self, ticket_no: str, engineer_id: str | None, at: datetime, progress: str,
                   percent: int | None) -> None:
        self.session.execute(job_reports.insert().values(
            ticket_no=ticket_no, engineer_id=engineer_id, reported_at=at,
            progress=progress, percent=percent))

    def reports(self, ticket_no: str) -> list[dict]:
        rows = self.session.execute(select(job_reports).where(job_reports.c.ticket_no == ticket_no)
                                    .order_by(job_reports.c.id)).mappings()
        return [{"engineer_id": r["engineer_id"], "reported_at": r["reported_at"],
                 "progress": r["progress"], "percent": r["percent"]} for r in rows]

    def add_early(self, ticket_no: str, event_type: str, occurred_at: datetime, data: dict) -> None:
        self.session.execute(early_events.insert().values(
            ticket_no=ticket_no, event_type=event_type, occurred_at=occurred_at, data=data))

    def take_early(self, ticket_no: str, keep: bool = False) -> list[tuple[str, datetime, dict]]:
        """The ticket's early events, oldest first; removed (they are applied now) unless
        ``keep``."""
        rows = self.session.execute(
            select(early_events.c.event_type, early_events.c.occurred_at, early_events.c.data)
            .where(early_events.c.ticket_no == ticket_no)
            .order_by(early_events.c.occurred_at, early_events.c.id)).all()
        if rows and not keep:
            self.forget_early(ticket_no)
        return [(t, at, dict(d)) for t, at, d in rows]

    def forget_early(self, ticket_no: str) -> None:
        self.session.execute(early_events.delete().where(early_events.c.ticket_no == ticket_no))

    def purge_early(self, before: datetime) -> int:
        """Forget early events of tickets that never got a job (no visit needed)."""
        return self.session.execute(early_events.delete().where(
            early_events.c.occurred_at < before)).rowcount

    def counts_by(self) -> list[tuple[str, str, str, int]]:
        return [(s, p, b, int(n)) for s, p, b, n in self.session.execute(
            select(jobs.c.status, jobs.c.priority, jobs.c.branch, func.count())
            .group_by(jobs.c.status, jobs.c.priority, jobs.c.branch)).all()]


def _values(job: Job) -> dict:
    values = {k: getattr(job, k) for k in Job.__dataclass_fields__}
    return values


def _job(row) -> Job:
    values = {k: row[k] for k in Job.__dataclass_fields__}
    values["parts_used"] = list(values["parts_used"] or [])
    values["declined_by"] = list(values["declined_by"] or [])
    values["parts_requests"] = list(values["parts_requests"] or [])
    values["visits"] = int(values["visits"] or 0)
    values["rework_count"] = int(values["rework_count"] or 0)
    return Job(**values)


EVIDENCE_FIELDS = ("kind", "sha256", "content_type", "size", "uploaded_by", "uploaded_at",
                   "taken_at", "caption", "signed_by")


class EvidenceRepository:
    """What a job keeps about its photos and signatures (the bytes: the evidence store)."""

    def __init__(self, session: Session):
        self.session = session

    def add(self, ticket_no: str, **row) -> bool:
        """Record one image of the job; False (nothing changed) when the job has it already
        (same kind, same SHA-256)."""
        if self.get(ticket_no, row["sha256"], row["kind"]) is not None:
            return False
        self.session.execute(job_evidence.insert().values(ticket_no=ticket_no, **row))
        return True

    def get(self, ticket_no: str, sha256: str, kind: str | None = None) -> dict | None:
        query = select(job_evidence).where(job_evidence.c.ticket_no == ticket_no,
                                           job_evidence.c.sha256 == sha256)
        if kind:
            query = query.where(job_evidence.c.kind == kind)
        row = self.session.execute(query.order_by(job_evidence.c.id)).mappings().first()
        return _evidence(row) if row else None

    def of_job(self, ticket_no: str, kind: str | None = None) -> list[dict]:
        query = select(job_evidence).where(job_evidence.c.ticket_no == ticket_no)
        if kind:
            query = query.where(job_evidence.c.kind == kind)
        return [_evidence(r) for r in
                self.session.execute(query.order_by(job_evidence.c.id)).mappings()]


def _evidence(row) -> dict:
    return {k: row[k] for k in EVIDENCE_FIELDS}


class DispatchUnitOfWork(UnitOfWork):
    """Dispatch's unit of work; ``after_commit`` callables (metric increments) run only once
    the transaction has committed."""

    def commit(self) -> None:
        super().commit()
        todo, self.after_commit = self.after_commit, []
        for fn in todo:
            fn()

    def _open(self, session):
        self.after_commit = []
        self.engineers = EngineerRepository(session)
        self.jobs = JobRepository(session)
        self.sla = SlaRepository(session)
        self.kept = KeptTicketRepository(session)
        self.evidence = EvidenceRepository(session)
