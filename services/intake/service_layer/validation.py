"""Intake's validation of a repair request, and what a refused one can still be answered with.

A request is checked against the phone-center schema (types, lengths, formats), the bounds of
any JSON body (:mod:`aftersales.jsonbounds`: nesting, numbers, lone surrogates) and intake's own
rules (a known branch, times within the window around now). Every error names its field; the
list is cut to :data:`MAX_ERRORS` and every text in it is safe to store, publish and log (no
lone surrogate, no personal data: see :func:`_masked`).
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from pydantic import ValidationError

from aftersales import jsonbounds
from aftersales.contracts.events import RepairRequested
from aftersales.errors import InvalidInput, pydantic_errors
from aftersales.logs import mask_text

from ..domain import model

MAX_ERRORS = 20
MAX_ID_CHARS = 100       # request_id and source, as stored with a rejection
MAX_MESSAGE_CHARS = 500


def validate_request(body: dict, branches: dict, now: datetime,
                     max_age: timedelta = model.RECEIVED_MAX_AGE) -> RepairRequested:
    """The validated request, or InvalidInput naming every bad field."""
    errors = jsonbounds.problems(body, limit=MAX_ERRORS)
    beyond = [e["field"] for e in errors]
    req = None
    try:
        req = RepairRequested.model_validate(body)
    except ValidationError as exc:
        errors += [e for e in pydantic_errors(exc) if not _covered(e["field"], beyond)]
    branch = body.get("branch")
    if isinstance(branch, str) and branch and len(branch) <= 20 and branch not in branches:
        errors.append({"field": "branch",
                       "message": f"unknown branch {branch!r}; known: {', '.join(sorted(branches))}"})
    if req is not None:
        errors += model.time_errors(req.received_at, req.expected_by, now, max_age)
    if errors:
        raise InvalidInput([{"field": jsonbounds.printable(e["field"]),
                             "message": _masked(e["message"])} for e in errors[:MAX_ERRORS]])
    return req


_ECHO = re.compile(r"; got (.*)$", re.S)
_SHORT_ASCII = re.compile(r"[\x20-\x7e]{0,26}")


def _masked(message: str) -> str:
    """The message safe to store, publish, log and park with: a value it echoes is kept only
    when short and plain ASCII (a mistyped code, not a name), phone numbers are masked."""
    echo = _ECHO.search(message)
    if echo and not _SHORT_ASCII.fullmatch(echo.group(1)):
        message = message[:echo.start()] + "; got another value"
    return mask_text(jsonbounds.printable(message, MAX_MESSAGE_CHARS))


def _covered(field: str, beyond: list[str]) -> bool:
    """A schema error on a field already named for going beyond the bounds (or on its parent)."""
    return any(b == field or b.startswith(field + ".") for b in beyond)


def readable(body: dict, key: str) -> str | None:
    """``body[key]`` when it can be used to answer a refused request (a short, clean string)."""
    value = body.get(key)
    if (isinstance(value, str) and 0 < len(value) <= MAX_ID_CHARS
            and not jsonbounds.has_lone_surrogate(value)):
        return value
    return None


def answer_address(body: dict, branches: dict) -> tuple[str | None, str | None, str | None]:
    """``(source, request_id, branch)`` of a refused request, each None when unreadable."""
    branch = body.get("branch")
    return (readable(body, "source"), readable(body, "request_id"),
            branch if isinstance(branch, str) and branch in branches else None)
