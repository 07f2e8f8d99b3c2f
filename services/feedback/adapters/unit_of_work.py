"""Feedback's unit of work: the shared one (outbox, inbox) with feedback's repositories."""
from __future__ import annotations

from aftersales.outbox import UnitOfWork

from .complaints import ComplaintRepository
from .facts import ClosedJobRepository, FactRepository
from .surveys import FollowUpRepository, SurveyRepository
from .visits import PlanRepository, VisitRepository


class FeedbackUnitOfWork(UnitOfWork):
    def _open(self, session):
        self.surveys = SurveyRepository(session)
        self.closed_jobs = ClosedJobRepository(session)
        self.follow_ups = FollowUpRepository(session)
        self.complaints = ComplaintRepository(session)
        self.visits = VisitRepository(session)
        self.plans = PlanRepository(session)
        self.facts = FactRepository(session)
