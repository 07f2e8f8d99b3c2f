"""The console has no reference data: its users are people, added with ``aftersales users
add`` (``make run`` adds the demo users with ``aftersales users demo``, development only)."""
from __future__ import annotations


def seed(session, only_if_empty: bool = False) -> str:
    return "no reference data (users: aftersales users add)"
