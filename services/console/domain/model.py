"""The console's people and their sessions: pure rules, no framework.

A user has a login (a staff id: it becomes the ``sub`` of the keys minted for them, so the
same characters as :data:`aftersales.auth.SUBJECT_RE`), a name, a branch or ``HQ``, one role
of the platform's (people's roles: not ``integration``), an engineer id for engineers, and an
active flag. A session is a random token the browser keeps in a cookie; only its SHA-256 is
stored, with its expiry and the CSRF token every form of the session carries.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from aftersales.auth import HQ, ROLES

PEOPLE_ROLES = tuple(r for r in ROLES if r != "integration")
LOGIN_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 256
DEFAULT_SESSION_HOURS = 12.0


class UserError(ValueError):
    """Bad user data: ``errors`` names each field (``{"field", "message"}``)."""

    def __init__(self, errors: list[dict]):
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class User:
    login: str
    name: str
    branch: str
    role: str
    engineer_id: str | None
    password_hash: str
    active: bool
    created_at: datetime

    @property
    def is_hq(self) -> bool:
        return self.branch == HQ

    def disabled(self) -> "User":
        return replace(self, active=False)


def password_errors(password: str | None, field: str = "password") -> list[dict]:
    """The password policy: at least :data:`MIN_PASSWORD` characters (and a sane maximum)."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        return [{"field": field, "message": f"must have at least {MIN_PASSWORD} characters"}]
    if len(password) > MAX_PASSWORD:
        return [{"field": field, "message": f"must have at most {MAX_PASSWORD} characters"}]
    return []


def user_errors(login, name, branch, role, engineer_id, branches) -> list[dict]:
    """Every problem of a new user's fields, each naming its field. ``branches``: the
    operating branch codes (``aftersales.reference.branches``); ``HQ`` is allowed too."""
    errors = []
    if not isinstance(login, str) or not LOGIN_RE.match(login):
        errors.append({"field": "login", "message": "must be a staff id: letters, digits, . _ - "
                       "(at most 64 characters, no spaces), e.g. SH-A001"})
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        errors.append({"field": "name", "message": "is required (at most 100 characters)"})
    known = sorted(branches) + [HQ]
    if branch not in known:
        errors.append({"field": "branch", "message": f"unknown branch {branch!r}; one of "
                       f"{', '.join(known)}"})
    if role not in PEOPLE_ROLES:
        errors.append({"field": "role", "message": f"unknown role {role!r}; one of "
                       f"{', '.join(PEOPLE_ROLES)}"})
    if role == "engineer" and not engineer_id:
        errors.append({"field": "engineer_id", "message": "is required for an engineer"})
    if engineer_id is not None and (not LOGIN_RE.match(str(engineer_id))):
        errors.append({"field": "engineer_id", "message": "must be an engineer id such as "
                       "SH-E001"})
    return errors


def new_user(login, name, branch, role, engineer_id, password_hash, now, branches) -> User:
    engineer_id = engineer_id or None
    errors = user_errors(login, name, branch, role, engineer_id, branches)
    if errors:
        raise UserError(errors)
    return User(login=login, name=name.strip(), branch=branch, role=role,
                engineer_id=engineer_id, password_hash=password_hash, active=True,
                created_at=now)


# -- sessions ---------------------------------------------------------------------------------
def token_hash(token: str) -> str:
    """What the database keeps of a session token (never the token)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Session:
    token_hash: str
    login: str
    csrf_token: str
    created_at: datetime
    expires_at: datetime

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def csrf_ok(self, submitted: str | None) -> bool:
        return check_csrf(self.csrf_token, submitted)


def check_csrf(expected: str | None, submitted: str | None) -> bool:
    """The form's token equals the expected one (constant time); a missing one never does."""
    if not expected or not isinstance(submitted, str) or not submitted:
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())


def new_token() -> str:
    return secrets.token_urlsafe(32)


def open_session(login: str, now: datetime,
                 hours: float = DEFAULT_SESSION_HOURS) -> tuple[str, Session]:
    """A new session for ``login``: (the token for the cookie, the session to store)."""
    token = new_token()
    return token, Session(token_hash=token_hash(token), login=login, csrf_token=new_token(),
                          created_at=now, expires_at=now + timedelta(hours=hours))
