"""Signed API keys: every service verifies them with the shared secret, no database needed.

A key is ``ak1.<payload>.<signature>``: the payload (base64url JSON) names the key id, the
branch (a branch code, or ``HQ`` for all branches), the role and, for engineers, the engineer
id; the signature is HMAC-SHA256 of the payload with ``AFTERSALES_SECRET``. Issue keys with
``aftersales keys issue --branch SH --role agent``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from .errors import InvalidInput

ROLES = ("admin", "manager", "agent", "dispatcher", "engineer", "integration", "warehouse", "qc")
HQ = "HQ"


class AuthError(Exception):
    """401: no key, or a key that does not verify."""


class Forbidden(Exception):
    """403: a valid key that may not do this."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Principal:
    key_id: str
    branch: str
    role: str
    engineer_id: str | None = None

    @property
    def is_hq(self) -> bool:
        return self.branch == HQ

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


def issue_key(secret: str, branch: str, role: str, engineer_id: str | None = None) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if not branch:
        raise ValueError("branch is required (a branch code or HQ)")
    if role == "engineer" and not engineer_id:
        raise ValueError("an engineer key needs --engineer-id")
    payload = {"kid": secrets.token_hex(6), "branch": branch, "role": role, "iat": int(time.time())}
    if engineer_id:
        payload["eng"] = engineer_id
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    sig = _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())
    return f"ak1.{body}.{sig}"


def verify_key(secret: str, key: str) -> Principal:
    try:
        prefix, body, sig = key.split(".")
    except ValueError:
        raise AuthError("malformed API key") from None
    if prefix != "ak1":
        raise AuthError("unknown API key format")
    expected = _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected, sig):
        raise AuthError("API key signature does not verify")
    try:
        data = json.loads(_unb64(body))
        return Principal(key_id=data["kid"], branch=data["branch"], role=data["role"],
                         engineer_id=data.get("eng"))
    except (ValueError, KeyError):
        raise AuthError("malformed API key payload") from None


def principal_from_header(secret: str, header: str | None) -> Principal:
    if not header:
        raise AuthError("missing Authorization header (expected 'Bearer <key>')")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise AuthError("Authorization header must be 'Bearer <key>'")
    return verify_key(secret, key.strip())
