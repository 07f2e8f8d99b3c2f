"""Roster use cases over HTTP: add or replace a person, record leave (the list is in
``views.py``)."""
from __future__ import annotations

import logging
from dataclasses import replace

from aftersales.errors import InvalidInput, NotFound
from aftersales.reference import branches

from ..domain import roster
from ..domain.roster import calendar_doc, parse_leave
from ..seed import engineer_from_row
from . import commands

log = logging.getLogger(__name__)
READ_ROLES = ("dispatcher", "manager", "agent")
WRITE_ROLES = ("dispatcher", "manager")
COLUMNS = ("engineer_id", "name", "branch", "role", "skills", "zone", "shift", "leave",
           "max_jobs", "active")


def engineer_view(e: roster.Engineer, now=None) -> dict:
    return {"engineer_id": e.engineer_id, "name": e.name, "branch": e.branch, "role": e.role,
            "skills": list(e.skills), "levels": dict(e.levels), "zone": e.zone,
            "active": e.active, "max_jobs": e.max_jobs, "shift": calendar_doc(e.shift),
            "leave": [[a.isoformat(), b.isoformat()] for a, b in e.leave],
            **({"on_shift": e.on_shift(now), "on_leave": e.on_leave(now)} if now else {})}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    return str(value)


def put_engineer(uow, cmd: commands.PutEngineer) -> tuple[int, dict]:
    """Add or replace a roster entry. Fields as in the CSV (skills ``fault:3;maintenance``,
    shift ``mon-fri 08:30-17:30``, leave ``2026-11-24..2026-11-26``); skills may be a list."""
    principal, engineer_id, body = cmd.principal, cmd.engineer_id, cmd.body
    principal.require_role(*WRITE_ROLES)
    row = {k: _text(body.get(k)) for k in ("name", "branch", "role", "skills", "zone", "shift",
                                           "leave")}
    row["engineer_id"] = engineer_id
    row["max_jobs"] = _text(body.get("max_jobs", 3))
    row["active"] = "true" if body.get("active", True) else "false"
    try:
        engineer = engineer_from_row(row)
    except ValueError as exc:
        message = str(exc)
        field = next((c for c in COLUMNS if message.startswith(c) or f" {c} " in f" {message} "),
                     "(body)")
        raise InvalidInput([{"field": field, "message": message}]) from None
    principal.require_branch(engineer.branch)
    existing = uow.engineers.get(engineer_id)
    if existing is not None:
        principal.require_branch(existing.branch)
    created = uow.engineers.upsert(engineer)
    log.info("roster: %s %s by %s", engineer_id, "added" if created else "updated", principal.actor)
    return (201 if created else 200), engineer_view(engineer)


def add_leave(uow, cmd: commands.AddLeave) -> dict:
    """Record leave: ``{"from": "2026-11-24", "to": "2026-11-26"}`` (whole days)."""
    principal, engineer_id, body = cmd.principal, cmd.engineer_id, cmd.body
    principal.require_role(*WRITE_ROLES)
    start, end = str(body.get("from") or ""), str(body.get("to") or body.get("from") or "")
    e = uow.engineers.get(engineer_id)
    if e is None or not principal.can_access(e.branch):
        raise NotFound(f"no engineer {engineer_id}")
    try:
        tz = (branches().get(e.branch) or {}).get("timezone") or "Asia/Shanghai"
        periods = parse_leave(f"{start}..{end}", tz)
    except ValueError as exc:
        raise InvalidInput([{"field": "from", "message": str(exc)}]) from None
    e = replace(e, leave=tuple(e.leave) + periods)
    uow.engineers.upsert(e)
    return engineer_view(e)
