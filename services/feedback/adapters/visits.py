"""Return visits and the visit plans that schedule them (with each plan's yearly runs)."""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import and_, or_, select, update

from ..domain.visits import Plan, Visit, plan_from
from .orm import plan_runs, visit_plans, visits
from .rows import Repository, dumps, from_row, where_given


def _visit(row) -> Visit:
    return from_row(Visit, row)


class VisitRepository(Repository):
    def add_new(self, vs: list[Visit]) -> list[Visit]:
        """Insert the visits whose key is not scheduled yet; return those inserted."""
        added = []
        for v in vs:
            if self.session.execute(select(visits.c.visit_id).where(visits.c.key == v.key)).first():
                continue
            self.session.execute(visits.insert().values(
                visit_id=v.visit_id, key=v.key, ticket_no=v.ticket_no, branch=v.branch,
                kind=v.kind, plan_id=v.plan_id, label=v.label, due_at=v.due_at, status=v.status))
            added.append(v)
        return added

    def get(self, visit_id: str) -> Visit | None:
        row = self.session.execute(select(visits).where(visits.c.visit_id == visit_id)
                                   .with_for_update()).mappings().first()
        return _visit(row) if row else None

    def save(self, v: Visit) -> bool:
        r = self.session.execute(update(visits).where(visits.c.visit_id == v.visit_id,
                                                      visits.c.status == "scheduled")
                                 .values(status=v.status, outcome=v.outcome, notes=v.notes,
                                         completed_at=v.completed_at,
                                         completed_by=v.completed_by, request_id=v.request_id))
        return r.rowcount == 1

    def list(self, branch: str | None, status: str | None, due_before: datetime | None,
             ticket_no: str | None = None, limit: int = 200) -> list[Visit]:
        q = where_given(select(visits).order_by(visits.c.due_at, visits.c.visit_id).limit(limit),
                        visits, branch=branch, status=status, ticket_no=ticket_no)
        if due_before:
            q = q.where(visits.c.due_at < due_before)
        return [_visit(r) for r in self.session.execute(q).mappings().all()]

    def touching(self, branch: str, start: datetime, end: datetime) -> list[Visit]:
        q = select(visits).where(visits.c.branch == branch, or_(
            and_(visits.c.due_at >= start, visits.c.due_at < end),
            and_(visits.c.completed_at >= start, visits.c.completed_at < end)))
        return [_visit(r) for r in self.session.execute(q).mappings().all()]


class PlanRepository(Repository):
    def all(self) -> list[Plan]:
        rows = self.session.execute(select(visit_plans).order_by(visit_plans.c.plan_id)).all()
        return [plan_from(r.plan_id, json.loads(r.definition)) for r in rows]

    def get(self, plan_id: str) -> Plan | None:
        row = self.session.execute(select(visit_plans).where(visit_plans.c.plan_id == plan_id)).first()
        return plan_from(row.plan_id, json.loads(row.definition)) if row else None

    def put(self, plan_id: str, doc: dict, now: datetime) -> None:
        definition = dumps({k: doc[k] for k in ("name", "kind", "month", "day", "categories",
                                             "keywords", "branches", "active") if k in doc})
        if self.session.execute(select(visit_plans.c.plan_id)
                                .where(visit_plans.c.plan_id == plan_id)).first():
            self.session.execute(update(visit_plans).where(visit_plans.c.plan_id == plan_id)
                                 .values(definition=definition, updated_at=now))
        else:
            self.session.execute(visit_plans.insert().values(plan_id=plan_id,
                                                             definition=definition, updated_at=now))

    def claim(self, plan_id: str) -> bool:
        """Lock the plan's row until the unit of work ends (a run of it): False if there is no
        such plan or, on PostgreSQL, while another transaction holds it (SKIP LOCKED: another
        scheduler is running it)."""
        return self.session.execute(self.skip_locked(
            select(visit_plans.c.plan_id).where(visit_plans.c.plan_id == plan_id))).first() is not None

    def ran(self, plan_id: str, year: int) -> bool:
        return self.session.execute(select(plan_runs.c.plan_id).where(
            plan_runs.c.plan_id == plan_id, plan_runs.c.year == year)).first() is not None

    def record_run(self, plan_id: str, year: int, n: int, now: datetime) -> None:
        if self.ran(plan_id, year):
            self.session.execute(update(plan_runs).where(plan_runs.c.plan_id == plan_id,
                                                         plan_runs.c.year == year)
                                 .values(ran_at=now, visits=plan_runs.c.visits + n))
        else:
            self.session.execute(plan_runs.insert().values(plan_id=plan_id, year=year,
                                                           ran_at=now, visits=n))
