"""The event of API-key revocation (exchange ``keys.events``): published by ``aftersales keys
revoke`` (the platform's CLI, not a service), consumed by every service."""
from __future__ import annotations

from datetime import datetime

from pydantic import Field

from .common import Schema

SOURCE = "keys"


class KeyRevokedV1(Schema):
    kid: str = Field(min_length=1, max_length=64, description="the revoked key's id")
    subject: str | None = Field(default=None, max_length=64,
                                description="who the key was issued to, when known")
    reason: str | None = Field(default=None, max_length=500)
    revoked_at: datetime


# type, version, schema, summary (docs/events.md)
SPECS = (
    ("key_revoked", 1, KeyRevokedV1,
     "An operator revoked one API key (`aftersales keys revoke KID`): every service "
     "records the key id in its own `revoked_keys` table and answers 401 to it from then on."),
)
