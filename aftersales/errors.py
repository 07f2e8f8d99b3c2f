"""Exceptions shared by service layers and adapters (no framework imports)."""
from __future__ import annotations


class ParkMessage(Exception):
    """Raised by a handler after it has committed its own outcome (for example a
    ``request_rejected`` event): the consumed message is parked with this reason instead of
    being acknowledged and forgotten."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class PermanentError(Exception):
    """The message can never be handled as it is (retrying is pointless): park it at once."""


class NotFound(Exception):
    pass


class Conflict(Exception):
    pass


class Gone(Exception):
    """410: the resource existed but is no longer available (e.g. an expired survey link)."""


class InvalidInput(Exception):
    """Bad input; ``errors`` is a list of ``{"field": ..., "message": ...}``."""

    def __init__(self, errors: list[dict]):
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


def pydantic_errors(exc) -> list[dict]:
    """``{field, message}`` pairs from a pydantic ValidationError, fields as dotted paths."""
    out = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err.get("loc", ())) or "(body)"
        msg = err.get("msg", "is invalid")
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        if err.get("type") == "missing":
            msg = "is required"
        elif err.get("type") == "string_too_short" and err.get("ctx", {}).get("min_length") == 1:
            msg = "must not be empty"
        elif err.get("type") == "string_too_long":
            msg = f"is longer than {err.get('ctx', {}).get('max_length')} characters"
        elif err.get("type") == "literal_error":
            expected = err.get("ctx", {}).get("expected", "")
            msg = f"must be one of {expected}; got {err.get('input')!r}"
        out.append({"field": field, "message": msg})
    return out
