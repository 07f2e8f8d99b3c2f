"""The console's unit of work: the shared one (outbox, inbox) with its repositories."""
from __future__ import annotations

from aftersales.outbox import UnitOfWork

from .repositories import SessionRepository, UserRepository


class ConsoleUnitOfWork(UnitOfWork):
    def _open(self, session):
        self.users = UserRepository(session)
        self.sessions = SessionRepository(session)
