"""Feedback's repositories over its tables."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from aftersales.outbox import UnitOfWork

from ..domain.model import DIMENSIONS, Answer, Survey
from .orm import surveys


def _aware(dt: datetime | None) -> datetime | None:
    return dt.replace(tzinfo=timezone.utc) if dt is not None and dt.tzinfo is None else dt


def _survey(row) -> Survey:
    answer = None
    if row["answered_at"] is not None:
        answer = Answer(scores={d: row[f"score_{d}"] for d in DIMENSIONS},
                        recommend=row["recommend"], comment=row["comment"])
    return Survey(survey_id=row["survey_id"], token=row["token"], ticket_no=row["ticket_no"],
                  branch=row["branch"], engineer_id=row["engineer_id"],
                  issued_at=_aware(row["issued_at"]), expires_at=_aware(row["expires_at"]),
                  answered_at=_aware(row["answered_at"]), answer=answer,
                  follow_up_required=bool(row["follow_up_required"]))


class SurveyRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, s: Survey, source_event_id: str | None = None) -> None:
        self.session.execute(surveys.insert().values(
            survey_id=s.survey_id, token=s.token, ticket_no=s.ticket_no, branch=s.branch,
            engineer_id=s.engineer_id, source_event_id=source_event_id, issued_at=s.issued_at,
            expires_at=s.expires_at, follow_up_required=False))

    def by_token(self, token: str) -> Survey | None:
        row = self.session.execute(select(surveys).where(surveys.c.token == token)).mappings().first()
        return _survey(row) if row else None

    def for_ticket(self, ticket_no: str) -> list[Survey]:
        rows = self.session.execute(select(surveys).where(surveys.c.ticket_no == ticket_no)
                                    .order_by(surveys.c.issued_at)).mappings().all()
        return [_survey(r) for r in rows]

    def record_answer(self, survey_id: str, answer: Answer, at: datetime,
                      follow_up_required: bool) -> bool:
        """Store the answer unless the survey has one already (False then): one answer per
        survey even when two arrive at once."""
        result = self.session.execute(
            update(surveys).where(surveys.c.survey_id == survey_id, surveys.c.answered_at.is_(None))
            .values(answered_at=at, recommend=answer.recommend, comment=answer.comment,
                    follow_up_required=follow_up_required,
                    **{f"score_{d}": answer.scores[d] for d in DIMENSIONS}))
        return result.rowcount == 1


class FeedbackUnitOfWork(UnitOfWork):
    def _open(self, session):
        self.surveys = SurveyRepository(session)
