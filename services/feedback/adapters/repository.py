"""Feedback's repositories over its tables."""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from aftersales.outbox import UnitOfWork

from ..domain.complaints import OPEN, Complaint
from ..domain.model import DIMENSIONS, Answer, FollowUp, Survey
from ..domain.stats import CauseFact, PartFact, SlaFact
from ..domain.visits import JobFacts, Plan, Visit, plan_from
from .orm import (complaints, diagnoses, follow_ups, jobs, parts_used, plan_runs, sla_results,
                  surveys, visit_plans, visits)



def _survey(row) -> Survey:
    answer = None
    if row["answered_at"] is not None:
        answer = Answer(scores={d: row[f"score_{d}"] for d in DIMENSIONS},
                        recommend=row["recommend"], comment=row["comment"])
    return Survey(survey_id=row["survey_id"], token=row["token"], ticket_no=row["ticket_no"],
                  branch=row["branch"], engineer_id=row["engineer_id"],
                  issued_at=row["issued_at"], expires_at=row["expires_at"],
                  answered_at=row["answered_at"], answer=answer,
                  follow_up_required=bool(row["follow_up_required"]),
                  reminders_sent=row["reminders_sent"] or 0,
                  expired_at=row["expired_at"], channel=row["channel"])


class SurveyRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, s: Survey, next_due_at: datetime | None, source_event_id: str | None = None) -> None:
        self.session.execute(surveys.insert().values(
            survey_id=s.survey_id, token=s.token, ticket_no=s.ticket_no, branch=s.branch,
            engineer_id=s.engineer_id, source_event_id=source_event_id, issued_at=s.issued_at,
            expires_at=s.expires_at, follow_up_required=False, reminders_sent=0,
            next_due_at=next_due_at))

    def by_token(self, token: str) -> Survey | None:
        row = self.session.execute(select(surveys).where(surveys.c.token == token)).mappings().first()
        return _survey(row) if row else None

    def get(self, survey_id: str) -> Survey | None:
        row = self.session.execute(select(surveys).where(surveys.c.survey_id == survey_id)
                                   ).mappings().first()
        return _survey(row) if row else None

    def for_ticket(self, ticket_no: str) -> list[Survey]:
        rows = self.session.execute(select(surveys).where(surveys.c.ticket_no == ticket_no)
                                    .order_by(surveys.c.issued_at)).mappings().all()
        return [_survey(r) for r in rows]

    def due(self, now: datetime, limit: int = 200) -> list[Survey]:
        rows = self.session.execute(
            select(surveys).where(surveys.c.next_due_at.is_not(None), surveys.c.next_due_at <= now)
            .order_by(surveys.c.next_due_at).limit(limit)).mappings().all()
        return [_survey(r) for r in rows]

    def mark_reminded(self, survey_id: str, reminders_sent: int, next_due_at) -> bool:
        r = self.session.execute(update(surveys).where(
            surveys.c.survey_id == survey_id, surveys.c.answered_at.is_(None),
            surveys.c.reminders_sent < reminders_sent)
            .values(reminders_sent=reminders_sent, next_due_at=next_due_at))
        return r.rowcount == 1

    def mark_expired(self, survey_id: str, at: datetime) -> bool:
        r = self.session.execute(update(surveys).where(
            surveys.c.survey_id == survey_id, surveys.c.answered_at.is_(None),
            surveys.c.expired_at.is_(None)).values(expired_at=at, next_due_at=None))
        return r.rowcount == 1

    def record_answer(self, survey_id: str, answer: Answer, at: datetime,
                      follow_up_required: bool, channel: str = "link",
                      recorded_by: str | None = None) -> bool:
        """Store the answer unless the survey has one already (False then): one answer per
        survey even when two arrive at once."""
        result = self.session.execute(
            update(surveys).where(surveys.c.survey_id == survey_id, surveys.c.answered_at.is_(None))
            .values(answered_at=at, recommend=answer.recommend, comment=answer.comment,
                    follow_up_required=follow_up_required, next_due_at=None, channel=channel,
                    recorded_by=recorded_by,
                    **{f"score_{d}": answer.scores[d] for d in DIMENSIONS}))
        return result.rowcount == 1

    def in_window(self, branch: str, start: datetime, end: datetime) -> list[Survey]:
        rows = self.session.execute(select(surveys).where(
            surveys.c.branch == branch,
            or_(and_(surveys.c.issued_at >= start, surveys.c.issued_at < end),
                and_(surveys.c.answered_at >= start, surveys.c.answered_at < end)))).mappings().all()
        return [_survey(r) for r in rows]


def _j(v):
    return json.dumps(v, ensure_ascii=False) if v is not None else None


def _l(v, default=None):
    return json.loads(v) if v else default


def _job(row) -> JobFacts:
    return JobFacts(ticket_no=row["ticket_no"], branch=row["branch"], category=row["category"],
                    priority=row["priority"], customer=_l(row["customer"], {}),
                    site=_l(row["site"], {}), asset=_l(row["asset"], {}),
                    engineer_id=row["engineer_id"], completed_at=row["completed_at"],
                    closed_at=row["closed_at"], first_time_fix=row["first_time_fix"],
                    rework_count=row["rework_count"])


class JobRepository:
    """Feedback's copy of a ticket; the first writer inserts, later events fill columns in
    (events may arrive in any order)."""

    def __init__(self, session: Session):
        self.session = session

    def get(self, ticket_no: str) -> JobFacts | None:
        row = self.session.execute(select(jobs).where(jobs.c.ticket_no == ticket_no)).mappings().first()
        return _job(row) if row else None

    def upsert(self, ticket_no: str, branch: str, **values) -> None:
        for k in ("customer", "site", "asset"):
            if k in values:
                values[k] = _j(values[k])
        if self.session.execute(select(jobs.c.ticket_no).where(jobs.c.ticket_no == ticket_no)
                                .with_for_update()).first() is None:
            try:
                with self.session.begin_nested():
                    self.session.execute(jobs.insert().values(ticket_no=ticket_no, branch=branch,
                                                              **values))
                return
            except IntegrityError:
                pass   # a concurrent event inserted it: update below
        if values:
            self.session.execute(update(jobs).where(jobs.c.ticket_no == ticket_no).values(**values))

    def closed_between(self, branch: str | None, start: datetime, end: datetime) -> list[JobFacts]:
        q = select(jobs).where(jobs.c.closed_at >= start, jobs.c.closed_at < end)
        if branch:
            q = q.where(jobs.c.branch == branch)
        return [_job(r) for r in self.session.execute(q).mappings().all()]


def _follow_up(row) -> FollowUp:
    return FollowUp(follow_up_id=row["follow_up_id"], survey_id=row["survey_id"],
                    ticket_no=row["ticket_no"], branch=row["branch"],
                    engineer_id=row["engineer_id"], reasons=_l(row["reasons"], []),
                    opened_at=row["opened_at"], due_at=row["due_at"],
                    status=row["status"], closed_at=row["closed_at"],
                    closed_by=row["closed_by"], note=row["note"])


class FollowUpRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, f: FollowUp) -> None:
        self.session.execute(follow_ups.insert().values(
            follow_up_id=f.follow_up_id, survey_id=f.survey_id, ticket_no=f.ticket_no,
            branch=f.branch, engineer_id=f.engineer_id, reasons=_j(f.reasons),
            opened_at=f.opened_at, due_at=f.due_at, status=f.status))

    def get(self, follow_up_id: str) -> FollowUp | None:
        row = self.session.execute(select(follow_ups).where(
            follow_ups.c.follow_up_id == follow_up_id).with_for_update()).mappings().first()
        return _follow_up(row) if row else None

    def save(self, f: FollowUp) -> None:
        self.session.execute(update(follow_ups).where(follow_ups.c.follow_up_id == f.follow_up_id)
                             .values(status=f.status, closed_at=f.closed_at,
                                     closed_by=f.closed_by, note=f.note))

    def list(self, branch: str | None, status: str | None, limit: int = 200) -> list[FollowUp]:
        q = select(follow_ups).order_by(follow_ups.c.opened_at).limit(limit)
        if branch:
            q = q.where(follow_ups.c.branch == branch)
        if status:
            q = q.where(follow_ups.c.status == status)
        return [_follow_up(r) for r in self.session.execute(q).mappings().all()]

    def opened_between(self, branch: str, start: datetime, end: datetime) -> list[FollowUp]:
        q = select(follow_ups).where(follow_ups.c.branch == branch,
                                     follow_ups.c.opened_at >= start, follow_ups.c.opened_at < end)
        return [_follow_up(r) for r in self.session.execute(q).mappings().all()]


def _complaint(row) -> Complaint:
    return Complaint(complaint_id=row["complaint_id"], ticket_no=row["ticket_no"],
                     branch=row["branch"], source=row["source"], severity=row["severity"],
                     description=row["description"], registered_at=row["registered_at"],
                     deadline=row["deadline"], owner=row["owner"], status=row["status"],
                     escalation_level=row["escalation_level"], notes=_l(row["notes"], []),
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
            notes=_j(c.notes)))

    def get(self, complaint_id: str, lock: bool = True) -> Complaint | None:
        q = select(complaints).where(complaints.c.complaint_id == complaint_id)
        row = self.session.execute(q.with_for_update() if lock else q).mappings().first()
        return _complaint(row) if row else None

    def save(self, c: Complaint) -> None:
        self.session.execute(update(complaints).where(complaints.c.complaint_id == c.complaint_id)
                             .values(owner=c.owner, deadline=c.deadline, status=c.status,
                                     escalation_level=c.escalation_level, notes=_j(c.notes),
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


def _visit(row) -> Visit:
    return Visit(visit_id=row["visit_id"], key=row["key"], ticket_no=row["ticket_no"],
                 branch=row["branch"], kind=row["kind"], due_at=row["due_at"],
                 plan_id=row["plan_id"], label=row["label"], status=row["status"],
                 outcome=row["outcome"], notes=row["notes"],
                 completed_at=row["completed_at"], completed_by=row["completed_by"],
                 request_id=row["request_id"])


class VisitRepository:
    def __init__(self, session: Session):
        self.session = session

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
        q = select(visits).order_by(visits.c.due_at, visits.c.visit_id).limit(limit)
        if branch:
            q = q.where(visits.c.branch == branch)
        if status:
            q = q.where(visits.c.status == status)
        if due_before:
            q = q.where(visits.c.due_at < due_before)
        if ticket_no:
            q = q.where(visits.c.ticket_no == ticket_no)
        return [_visit(r) for r in self.session.execute(q).mappings().all()]

    def touching(self, branch: str, start: datetime, end: datetime) -> list[Visit]:
        q = select(visits).where(visits.c.branch == branch, or_(
            and_(visits.c.due_at >= start, visits.c.due_at < end),
            and_(visits.c.completed_at >= start, visits.c.completed_at < end)))
        return [_visit(r) for r in self.session.execute(q).mappings().all()]


class PlanRepository:
    def __init__(self, session: Session):
        self.session = session

    def all(self) -> list[Plan]:
        rows = self.session.execute(select(visit_plans).order_by(visit_plans.c.plan_id)).all()
        return [plan_from(r.plan_id, json.loads(r.definition)) for r in rows]

    def get(self, plan_id: str) -> Plan | None:
        row = self.session.execute(select(visit_plans).where(visit_plans.c.plan_id == plan_id)).first()
        return plan_from(row.plan_id, json.loads(row.definition)) if row else None

    def put(self, plan_id: str, doc: dict, now: datetime) -> None:
        definition = _j({k: doc[k] for k in ("name", "kind", "month", "day", "categories",
                                             "keywords", "branches", "active") if k in doc})
        if self.session.execute(select(visit_plans.c.plan_id)
                                .where(visit_plans.c.plan_id == plan_id)).first():
            self.session.execute(update(visit_plans).where(visit_plans.c.plan_id == plan_id)
                                 .values(definition=definition, updated_at=now))
        else:
            self.session.execute(visit_plans.insert().values(plan_id=plan_id,
                                                             definition=definition, updated_at=now))

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


class FactRepository:
    """What the statistics are computed from: SLA stages, diagnoses, parts consumed."""

    def __init__(self, session: Session):
        self.session = session

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

    def sla(self, branch, start, end) -> list[SlaFact]:
        rows = self.session.execute(select(sla_results).where(
            sla_results.c.branch == branch, sla_results.c.completed_at >= start,
            sla_results.c.completed_at < end)).mappings().all()
        return [SlaFact(r["branch"], r["stage"], bool(r["met"]), r["completed_at"])
                for r in rows]

    def causes(self, branch, start, end) -> list[CauseFact]:
        rows = self.session.execute(select(diagnoses).where(
            diagnoses.c.branch == branch, diagnoses.c.diagnosed_at >= start,
            diagnoses.c.diagnosed_at < end)).mappings().all()
        return [CauseFact(r["branch"], r["cause"], r["diagnosed_at"], r["engineer_id"])
                for r in rows]

    def parts(self, branch, start, end) -> list[PartFact]:
        rows = self.session.execute(select(parts_used).where(
            parts_used.c.branch == branch, parts_used.c.consumed_at >= start,
            parts_used.c.consumed_at < end)).mappings().all()
        return [PartFact(r["branch"], r["sku"], r["quantity"], r["consumed_at"])
                for r in rows]


class FeedbackUnitOfWork(UnitOfWork):
    def _open(self, session):
        self.surveys = SurveyRepository(session)
        self.jobs = JobRepository(session)
        self.follow_ups = FollowUpRepository(session)
        self.complaints = ComplaintRepository(session)
        self.visits = VisitRepository(session)
        self.plans = PlanRepository(session)
        self.facts = FactRepository(session)
