"""Revoking one API key: ``aftersales keys revoke KID`` publishes ``key_revoked`` on
``keys.events``; every service consumes it from its own queue (``aftersales.<service>.keys``)
into its own ``revoked_keys`` table (no shared database) and refuses the key from then on.

Each service instance keeps the revoked ids in memory and reloads them from its table every
``REFRESH_SECONDS``, so a revocation consumed by one instance reaches the others sharing its
database within seconds, and survives restarts.
"""
from __future__ import annotations

import json
import logging
import threading
import time

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .contracts import topology
from .contracts.envelope import Envelope, utcnow
from .messaging.entrypoint import EventConsumer
from .outbox import make_envelope, revoked_keys

log = logging.getLogger(__name__)
REFRESH_SECONDS = 2.0


def publish_revocation(amqp_uri: str, kid: str, reason: str | None = None,
                       subject: str | None = None, retry_delays_ms=None) -> Envelope:
    """Publish ``key_revoked`` (persistent, confirmed, mandatory); ValueError for a bad kid."""
    import amqp

    from . import config as cfg
    from .messaging import broker
    if not kid or len(kid) > 64:
        raise ValueError("KID: give the key id (from `aftersales keys list`)")
    env = make_envelope("keys", "key_revoked", {"kid": kid, "subject": subject, "reason": reason,
                                                "revoked_at": utcnow()}, ticket_no=None, branch=None)
    conn = broker.connection(amqp_uri)
    try:
        conn.ensure_connection(max_retries=2)
        channel = conn.channel()
        broker.declare_topology(channel, retry_delays_ms or cfg.retry_delays_ms())
        body = json.dumps(env.to_json_dict(), ensure_ascii=False).encode("utf-8")
        msg = amqp.Message(body, content_type="application/json", delivery_mode=2,
                           message_id=str(env.event_id), type=env.type)
        channel.basic_publish_confirm(msg, exchange="keys.events", routing_key=env.type,
                                      mandatory=True)
    finally:
        conn.release()
    return env


class RevokedKeys:
    """The revoked key ids of one service instance (its table, cached for a few seconds)."""

    def __init__(self, engine, refresh_seconds: float = REFRESH_SECONDS):
        self.engine = engine
        self.refresh_seconds = refresh_seconds
        self._ids: frozenset[str] = frozenset()
        self._loaded = float("-inf")
        self._lock = threading.Lock()

    def __contains__(self, kid: str) -> bool:
        if time.monotonic() - self._loaded > self.refresh_seconds:
            with self._lock:
                if time.monotonic() - self._loaded > self.refresh_seconds:
                    with self.engine.begin() as conn:
                        self._ids = frozenset(conn.execute(select(revoked_keys.c.kid)).scalars())
                    self._loaded = time.monotonic()
        return kid in self._ids

    def record(self, env: Envelope) -> None:
        data = env.data
        try:
            with self.engine.begin() as conn:
                if conn.execute(select(revoked_keys.c.kid).where(
                        revoked_keys.c.kid == data["kid"])).first() is None:
                    conn.execute(revoked_keys.insert().values(
                        kid=data["kid"], subject=data.get("subject"), reason=data.get("reason"),
                        revoked_at=env.occurred_at))
        except IntegrityError:
            pass   # another instance recorded it at the same moment
        with self._lock:
            self._ids = self._ids | {data["kid"]}
        log.warning("API key %s (subject %s) revoked", data["kid"], data.get("subject") or "?")


class KeyRevocations(EventConsumer):
    """``@key_revocations``: consumes ``key_revoked`` from this service's keys queue."""

    def __init__(self, **kwargs):
        super().__init__("", **kwargs)

    def setup(self):
        service = self.container.config.get("AFTERSALES", {}).get(
            "service", self.container.service_name)
        self.queue_name = topology.keys_queue(service)
        super().setup()


key_revocations = KeyRevocations.decorator
