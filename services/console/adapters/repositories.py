"""Users and sessions in the console's database."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select, update

from ..domain.model import Session, User
from .orm import sessions, users


def _user(row) -> User:
    return User(login=row.login, name=row.name, branch=row.branch, role=row.role,
                engineer_id=row.engineer_id, password_hash=row.password_hash,
                active=bool(row.active), created_at=row.created_at)


class UserRepository:
    def __init__(self, session):
        self.session = session

    def get(self, login: str) -> User | None:
        row = self.session.execute(select(users).where(users.c.login == login)).first()
        return _user(row) if row else None

    def add(self, user: User) -> None:
        self.session.execute(insert(users).values(
            login=user.login, name=user.name, branch=user.branch, role=user.role,
            engineer_id=user.engineer_id, password_hash=user.password_hash, active=user.active,
            created_at=user.created_at))

    def set_active(self, login: str, active: bool) -> None:
        self.session.execute(update(users).where(users.c.login == login).values(active=active))

    def all(self) -> list[User]:
        rows = self.session.execute(select(users).order_by(users.c.branch, users.c.login))
        return [_user(r) for r in rows]


class SessionRepository:
    def __init__(self, session):
        self.session = session

    def get(self, token_hash: str) -> Session | None:
        row = self.session.execute(
            select(sessions).where(sessions.c.token_hash == token_hash)).first()
        if row is None:
            return None
        return Session(token_hash=row.token_hash, login=row.login, csrf_token=row.csrf_token,
                       created_at=row.created_at, expires_at=row.expires_at)

    def add(self, s: Session) -> None:
        self.session.execute(insert(sessions).values(
            token_hash=s.token_hash, login=s.login, csrf_token=s.csrf_token,
            created_at=s.created_at, expires_at=s.expires_at))

    def delete(self, token_hash: str) -> None:
        self.session.execute(delete(sessions).where(sessions.c.token_hash == token_hash))

    def delete_of(self, login: str) -> int:
        return self.session.execute(delete(sessions).where(sessions.c.login == login)).rowcount

    def delete_expired(self, now: datetime) -> int:
        return self.session.execute(delete(sessions).where(sessions.c.expires_at <= now)).rowcount
