"""The short-lived signed key the console calls the services with, minted for the logged-in
user (their branch, role, engineer id; ``sub`` = their login) and kept per session until
shortly before it expires. The services verify it as any other key."""
from __future__ import annotations

import threading
import time
from typing import Callable

from aftersales.auth import issue_key

from ..domain.model import User

KEY_LIFETIME = 300      # seconds
RENEW_BEFORE = 60       # a cached key this close to its expiry is replaced


class KeyMinter:
    def __init__(self, secret: str, lifetime: int = KEY_LIFETIME,
                 clock: Callable[[], float] = time.time):
        self._secret = secret
        self._lifetime = lifetime
        self._clock = clock
        self._cache: dict[str, tuple[str, float]] = {}   # session token hash -> (key, expiry)
        self._lock = threading.Lock()

    def key_for(self, session_id: str, user: User) -> str:
        now = self._clock()
        with self._lock:
            hit = self._cache.get(session_id)
            if hit is not None and hit[1] - now > RENEW_BEFORE:
                return hit[0]
            key = issue_key(self._secret, user.branch, user.role, user.engineer_id,
                            subject=user.login, expires_in=self._lifetime, now=now)
            self._cache = {k: v for k, v in self._cache.items() if v[1] > now}
            self._cache[session_id] = (key, now + self._lifetime)
            return key

    def forget(self, session_id: str) -> None:
        with self._lock:
            self._cache.pop(session_id, None)
