"""What feedback keeps of the other services' events: each ticket's customer and its closed
job's outcome (``closed_jobs``), and the statistics' facts (SLA stages, diagnoses, parts)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..domain.stats import CauseFact, PartFact, SlaFact
from ..domain.visits import JobFacts
from .orm import closed_jobs, diagnoses, parts_used, sla_results
from .rows import Repository, dumps, from_row, loads


def _closed_job(row) -> JobFacts:
    return from_row(JobFacts, row, customer=loads(row["customer"], {}),
                    site=loads(row["site"], {}), asset=loads(row["asset"], {}))


class ClosedJobRepository(Repository):
    """Feedback's copy of a ticket and of its closed job (``closed_jobs``); the first writer
    inserts, later events fill columns in (events may arrive in any order)."""

    def get(self, ticket_no: str) -> JobFacts | None:
        row = self.session.execute(select(closed_jobs).where(
            closed_jobs.c.ticket_no == ticket_no)).mappings().first()
        return _closed_job(row) if row else None

    def upsert(self, ticket_no: str, branch: str, **values) -> None:
        for k in ("customer", "site", "asset"):
            if k in values:
                values[k] = dumps(values[k])
        if self.session.execute(select(closed_jobs.c.ticket_no).where(
                closed_jobs.c.ticket_no == ticket_no).with_for_update()).first() is None:
            try:
                with self.session.begin_nested():
                    self.session.execute(closed_jobs.insert().values(
                        ticket_no=ticket_no, branch=branch, **values))
                return
            except IntegrityError:
                pass   # a concurrent event inserted it: update below
        if values:
            self.session.execute(update(closed_jobs).where(
                closed_jobs.c.ticket_no == ticket_no).values(**values))

    def closed_between(self, branch: str | None, start: datetime, end: datetime) -> list[JobFacts]:
        q = select(closed_jobs).where(closed_jobs.c.closed_at >= start,
                                      closed_jobs.c.closed_at < end)
        if branch:
            q = q.where(closed_jobs.c.branch == branch)
        return [_closed_job(r) for r in self.session.execute(q).mappings().all()]


class FactRepository(Repository):
    """What the statistics are computed from: SLA stages, diagnoses, parts consumed."""

    def add_sla(self, event_id, ticket_no, branch, stage, priority, met, completed_at) -> None:
        self.session.execute(sla_results.insert().values(
            event_id=event_id, ticket_no=ticket_no, branch=branch, stage=stage,
            priority=priority, met=met, completed_at=completed_at))

    def add_diagnosis(self, event_id, ticket_no, branch, engineer_id, cause, responsibility,
                      diagnosed_at) -> None:
        self.session.execute(diagnoses.insert().values(
            event_id=event_id, ticket_no=ticket_no, branch=branch, engineer_id=engineer_id,
            cause=cause, responsibility=responsibility, diagnosed_at=diagnosed_at))

    def add_parts(self, event_id, ticket_no, branch, quantities: dict[str, int], at) -> None:
        for sku, q in sorted(quantities.items()):
            self.session.execute(parts_used.insert().values(
                event_id=event_id, ticket_no=ticket_no, branch=branch, sku=sku, quantity=q,
                consumed_at=at))

    def _of_month(self, table, at, branch, start, end):
        return self.session.execute(select(table).where(
            table.c.branch == branch, table.c[at] >= start, table.c[at] < end)).mappings().all()

    def sla(self, branch, start, end) -> list[SlaFact]:
        return [SlaFact(r["branch"], r["stage"], bool(r["met"]), r["completed_at"])
                for r in self._of_month(sla_results, "completed_at", branch, start, end)]

    def causes(self, branch, start, end) -> list[CauseFact]:
        return [CauseFact(r["branch"], r["cause"], r["diagnosed_at"], r["engineer_id"])
                for r in self._of_month(diagnoses, "diagnosed_at", branch, start, end)]

    def parts(self, branch, start, end) -> list[PartFact]:
        return [PartFact(r["branch"], r["sku"], r["quantity"], r["consumed_at"])
                for r in self._of_month(parts_used, "consumed_at", branch, start, end)]
