"""Signed API keys: every service verifies them with the shared secret, no shared database.

A key is ``ak1.<payload>.<signature>``: the payload (base64url JSON) carries

| field | meaning |
|---|---|
| ``kid`` | the key id (what ``aftersales keys revoke KID`` names) |
| ``sub`` | the subject: the person (a staff id) or system the key was issued to; recorded as ``by`` |
| ``branch`` | a branch code, or ``HQ`` for all branches |
| ``role`` | one of :data:`ROLES` |
| ``eng`` | for engineers, the engineer id |
| ``iat``, ``exp`` | issued at and expires at (Unix seconds, UTC) |

The signature is HMAC-SHA256 of the payload with ``AFTERSALES_SECRET``. During a secret
rotation keys signed with ``AFTERSALES_SECRET_PREVIOUS`` verify too. A key without ``exp`` or
``iat``, expired, issued in the future, living longer than the configured maximum, with an
unknown role or without a subject is refused (401). Revoked key ids are refused by the
services (``aftersales/revocation.py``). Issue keys with
``aftersales keys issue --branch SH --role agent --subject SH-A007 --expires 30d``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets as _secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable

from .errors import InvalidInput

ROLES = ("admin", "manager", "agent", "dispatcher", "engineer", "integration", "warehouse", "qc")
HQ = "HQ"
DAY = 86400
DEFAULT_LIFETIME = 90 * DAY
MAX_LIFETIME = 365 * DAY
CLOCK_SKEW = 300          # seconds a key's ``iat`` may lie in the future (clocks differ)
# A staff or system id: logged and recorded as ``by``, so never a name or an e-mail address.
SUBJECT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
_DURATION_RE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": DAY, "w": 7 * DAY}


class AuthError(Exception):
    """401: no key, or a key that does not verify."""


class Forbidden(Exception):
    """403: a valid key that may not do this."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: str, body: str) -> str:
    return _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())


def parse_duration(text: str, field: str = "expires") -> int:
    """``30d``, ``12h``, ``45m``, ``2w``, ``90s`` -> seconds; ValueError naming ``field``."""
    m = _DURATION_RE.match(str(text or ""))
    if not m or int(m.group(1)) <= 0:
        raise ValueError(f"{field}: expected a positive duration such as 30d, 12h, 45m or 2w, "
                         f"got {text!r}")
    return int(m.group(1)) * _UNITS[m.group(2)]


@dataclass(frozen=True)
class Principal:
    key_id: str
    branch: str
    role: str
    engineer_id: str | None = None
    subject: str | None = None
    expires_at: int | None = None

    @property
    def is_hq(self) -> bool:
        return self.branch == HQ

    @property
    def actor(self) -> str:
        """Who acts, as timelines and logs record it (``by``): the key's subject."""
        return self.subject or self.engineer_id or f"{self.role}:{self.key_id}"

    def can_access(self, branch: str | None) -> bool:
        return self.is_hq or (branch is not None and branch == self.branch)

    def require_branch(self, branch: str | None, field: str = "branch") -> None:
        """Forbidden unless this key may act on ``branch``. A missing or non-text branch is
        bad input (InvalidInput naming ``field``, a 422), not a question of permission."""
        if not isinstance(branch, str) or not branch.strip():
            raise InvalidInput([{"field": field, "message": "is required (a branch code)"
                                 if branch is None or isinstance(branch, str)
                                 else "must be a branch code (text)"}])
        if not self.can_access(branch):
            raise Forbidden(f"this key belongs to branch {self.branch} and may not use branch {branch}")

    def require_role(self, *roles: str) -> None:
        if self.role not in roles and self.role != "admin":
            raise Forbidden(f"role {self.role!r} may not do this (needs one of: {', '.join(roles)})")


def key_claims(branch: str, role: str, engineer_id: str | None = None, *,
               subject: str | None = None, expires_in: int | None = None,
               max_lifetime: int = MAX_LIFETIME, now: float | None = None) -> dict:
    """The payload of a new key, checked; ValueError naming the problem."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)} (got {role!r})")
    if not branch:
        raise ValueError("branch is required (a branch code or HQ)")
    if role == "engineer" and not engineer_id:
        raise ValueError("an engineer key needs --engineer-id")
    subject = subject or engineer_id or f"{branch}-{role}"
    if not SUBJECT_RE.match(subject):
        raise ValueError("subject must be a staff or system id (letters, digits, . _ : -; at most "
                         "64 characters), not a name or an e-mail address: it is logged")
    lifetime = DEFAULT_LIFETIME if expires_in is None else int(expires_in)
    if lifetime <= 0:
        raise ValueError("expires: must be a positive duration")
    if lifetime > max_lifetime:
        raise ValueError(f"expires: at most {max_lifetime // DAY} days "
                         f"(AFTERSALES_KEY_MAX_EXPIRY), got {lifetime / DAY:g} days")
    iat = int(time.time() if now is None else now)
    claims = {"kid": _secrets.token_hex(8), "sub": subject, "branch": branch, "role": role,
              "iat": iat, "exp": iat + lifetime}
    if engineer_id:
        claims["eng"] = engineer_id
    return claims


def sign_claims(secret: str, claims: dict) -> str:
    body = _b64(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())
    return f"ak1.{body}.{_sign(secret, body)}"


def issue_key(secret: str, branch: str, role: str, engineer_id: str | None = None, **kw) -> str:
    """A new signed key (see :func:`key_claims` for ``subject``, ``expires_in``, ``now``)."""
    return sign_claims(secret, key_claims(branch, role, engineer_id, **kw))


def _as_list(secrets: str | Iterable[str]) -> list[str]:
    return [secrets] if isinstance(secrets, str) else [s for s in secrets if s]


def _int_claim(data: dict, name: str) -> int:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise AuthError(f"API key has no valid '{name}' ({'expiry' if name == 'exp' else 'issue time'});"
                        " issue a new key")
    return value


def _when(ts: int) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def verify_key(secrets: str | Iterable[str], key: str, now: float | None = None,
               max_lifetime: int = MAX_LIFETIME) -> Principal:
    """The key's principal, or AuthError. ``secrets``: the current secret, then any previous
    one still accepted during a rotation."""
    try:
        prefix, body, sig = key.split(".")
    except ValueError:
        raise AuthError("malformed API key") from None
    if prefix != "ak1":
        raise AuthError("unknown API key format")
    if not any(hmac.compare_digest(_sign(s, body), sig) for s in _as_list(secrets)):
        raise AuthError("API key signature does not verify")
    try:
        data = json.loads(_unb64(body))
    except ValueError:
        raise AuthError("malformed API key payload") from None
    if not isinstance(data, dict):
        raise AuthError("malformed API key payload")
    for name in ("kid", "branch", "role", "sub"):
        if not isinstance(data.get(name), str) or not data[name]:
            raise AuthError(f"API key payload lacks '{name}'; issue a new key")
    if data["role"] not in ROLES:
        raise AuthError(f"API key has an unknown role {data['role'][:32]!r}")
    iat, exp = _int_claim(data, "iat"), _int_claim(data, "exp")
    now = time.time() if now is None else now
    if exp <= now:
        raise AuthError(f"API key {data['kid']} expired at {_when(exp)}")
    if iat > now + CLOCK_SKEW:
        raise AuthError(f"API key {data['kid']} is issued in the future ({_when(iat)})")
    if exp - iat > max_lifetime:
        raise AuthError(f"API key {data['kid']} lives longer than the allowed "
                        f"{max_lifetime // DAY} days")
    eng = data.get("eng")
    if data["role"] == "engineer" and (not isinstance(eng, str) or not eng):
        raise AuthError("an engineer key lacks its engineer id")
    return Principal(key_id=data["kid"], branch=data["branch"], role=data["role"],
                     engineer_id=eng if isinstance(eng, str) else None, subject=data["sub"],
                     expires_at=exp)


def principal_from_header(secrets: str | Iterable[str], header: str | None, **kw) -> Principal:
    if not header:
        raise AuthError("missing Authorization header (expected 'Bearer <key>')")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise AuthError("Authorization header must be 'Bearer <key>'")
    return verify_key(secrets, key.strip(), **kw)
