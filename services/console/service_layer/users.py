"""The console's people: add, list and disable users; log in and out; the session of a
request. Each function is one unit of work; the password hasher and the clock are given."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from aftersales.clock import utcnow

from ..domain import model
from ..domain.model import Session, User, UserError

# The demo users `make run` creates (development only: the password is published here).
DEMO_PASSWORD = "console-demo-2026"
DEMO_USERS = (
    ("hq-admin", "系统管理员", "HQ", "admin", None),
    ("sh-manager", "赵敏（售后主管）", "SH", "manager", None),
    ("sh-agent", "孙丽（客服）", "SH", "agent", None),
    ("sh-dispatcher", "周涛（派工员）", "SH", "dispatcher", None),
    ("sh-engineer", "李强（工程师）", "SH", "engineer", "SH-E001"),
    ("sh-warehouse", "吴刚（仓管）", "SH", "warehouse", None),
    ("hq-qc", "郑华（质检）", "HQ", "qc", None),
    ("hz-agent", "钱芳（杭州客服）", "HZ", "agent", None),
)


@dataclass(frozen=True)
class Hasher:
    hash: Callable[[str], str]
    verify: Callable[[str | None, str], bool]


def default_hasher() -> Hasher:
    from ..adapters.passwords import hash_password, verify_password
    return Hasher(hash_password, verify_password)


def add_user(uow, login, name, branch, role, password, branches, *, engineer_id=None,
             hasher: Hasher | None = None, now=None) -> User:
    """A new active user; UserError naming each bad field (also a login already taken)."""
    errors = model.user_errors(login, name, branch, role, engineer_id or None, branches)
    errors += model.password_errors(password)
    if errors:
        raise UserError(errors)
    hasher = hasher or default_hasher()
    with uow:
        if uow.users.get(login) is not None:
            raise UserError([{"field": "login", "message": f"{login} is already taken"}])
        user = model.new_user(login, name, branch, role, engineer_id, hasher.hash(password),
                              now or utcnow(), branches)
        uow.users.add(user)
        uow.commit()
    return user


def list_users(uow) -> list[User]:
    with uow:
        return uow.users.all()


def disable_user(uow, login: str) -> int:
    """Disable the user and end their sessions (how many); UserError for an unknown login."""
    with uow:
        if uow.users.get(login) is None:
            raise UserError([{"field": "login", "message": f"no user {login}"}])
        uow.users.set_active(login, False)
        ended = uow.sessions.delete_of(login)
        uow.commit()
    return ended


def add_demo_users(uow, branches, hasher: Hasher | None = None) -> tuple[list[str], list[str]]:
    """The demo user of every role (:data:`DEMO_USERS`): (added, already there)."""
    added, kept = [], []
    hasher = hasher or default_hasher()
    for login, name, branch, role, engineer_id in DEMO_USERS:
        with uow:
            exists = uow.users.get(login) is not None
        if exists:
            kept.append(login)
            continue
        add_user(uow, login, name, branch, role, DEMO_PASSWORD, branches,
                 engineer_id=engineer_id, hasher=hasher)
        added.append(login)
    return added, kept


# -- sessions ---------------------------------------------------------------------------------
def log_in(uow, login: str, password: str, *, hours: float = model.DEFAULT_SESSION_HOURS,
           hasher: Hasher | None = None, now=None) -> tuple[str, Session, User] | None:
    """(cookie token, session, user), or None for a wrong password, an unknown or a disabled
    user alike (the caller shows one message for all three)."""
    hasher = hasher or default_hasher()
    now = now or utcnow()
    with uow:
        user = uow.users.get(login) if isinstance(login, str) else None
        ok = hasher.verify(user.password_hash if user else None, password or "")
        if not ok or user is None or not user.active:
            return None
        token, session = model.open_session(user.login, now, hours)
        uow.sessions.add(session)
        uow.sessions.delete_expired(now)
        uow.commit()
    return token, session, user


def current(uow, token: str | None, now=None) -> tuple[Session, User] | None:
    """The live session of a cookie's token and its (active) user, or None."""
    if not token:
        return None
    now = now or utcnow()
    with uow:
        session = uow.sessions.get(model.token_hash(token))
        if session is None:
            return None
        user = uow.users.get(session.login)
        if session.expired(now) or user is None or not user.active:
            uow.sessions.delete(session.token_hash)
            uow.commit()
            return None
        return session, user


def log_out(uow, token: str | None) -> None:
    if not token:
        return
    with uow:
        uow.sessions.delete(model.token_hash(token))
        uow.commit()
