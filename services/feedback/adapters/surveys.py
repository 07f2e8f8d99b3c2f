"""Surveys (with their answer) and the follow-ups a low score opens."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select, update

from ..domain.model import DIMENSIONS, Answer, FollowUp, Survey
from .orm import follow_ups, surveys
from .rows import Repository, dumps, from_row, loads, where_given


def _survey(row) -> Survey:
    answer = None
    if row["answered_at"] is not None:
        answer = Answer(scores={d: row[f"score_{d}"] for d in DIMENSIONS},
                        recommend=row["recommend"], comment=row["comment"])
    return from_row(Survey, row, answer=answer,
                    follow_up_required=bool(row["follow_up_required"]),
                    reminders_sent=row["reminders_sent"] or 0)


def _due(now: datetime) -> tuple:
    return surveys.c.next_due_at.is_not(None), surveys.c.next_due_at <= now


class SurveyRepository(Repository):
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
        """Surveys with a reminder or their expiry due at ``now``, earliest first. Not
        locked (the read ends before the work starts): each unit of work claims its survey."""
        rows = self.session.execute(
            select(surveys).where(*_due(now)).order_by(surveys.c.next_due_at).limit(limit)
        ).mappings().all()
        return [_survey(r) for r in rows]

    def claim(self, survey_id: str, now: datetime) -> Survey | None:
        """The survey, locked until the unit of work ends, if it is still due at ``now``;
        None if not (done meanwhile) or, on PostgreSQL, if another transaction holds it
        (SKIP LOCKED: another scheduler is raising its reminder or expiry)."""
        row = self.session.execute(self.skip_locked(
            select(surveys).where(surveys.c.survey_id == survey_id, *_due(now)))
        ).mappings().first()
        return _survey(row) if row else None

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


def _follow_up(row) -> FollowUp:
    return from_row(FollowUp, row, reasons=loads(row["reasons"], []))


class FollowUpRepository(Repository):
    def add(self, f: FollowUp) -> None:
        self.session.execute(follow_ups.insert().values(
            follow_up_id=f.follow_up_id, survey_id=f.survey_id, ticket_no=f.ticket_no,
            branch=f.branch, engineer_id=f.engineer_id, reasons=dumps(f.reasons),
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
        q = where_given(select(follow_ups).order_by(follow_ups.c.opened_at).limit(limit),
                        follow_ups, branch=branch, status=status)
        return [_follow_up(r) for r in self.session.execute(q).mappings().all()]

    def opened_between(self, branch: str, start: datetime, end: datetime) -> list[FollowUp]:
        q = select(follow_ups).where(follow_ups.c.branch == branch,
                                     follow_ups.c.opened_at >= start, follow_ups.c.opened_at < end)
        return [_follow_up(r) for r in self.session.execute(q).mappings().all()]
