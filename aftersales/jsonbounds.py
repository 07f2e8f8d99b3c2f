"""Reading untrusted JSON within bounds, in one place for the bus and for HTTP.

``json.loads`` alone is not safe on input from outside: a 200 KB body of ``[`` raises
``RecursionError`` (not ``ValueError``), ``1e999`` becomes ``inf``, a 5,000-digit integer
raises, and ``"\\ud800"`` gives a string that cannot be written as UTF-8 (to a database, a log
or the bus). :func:`loads` bounds all of that:

- the body: at most :data:`MAX_BODY_BYTES`, UTF-8, JSON (``NaN``/``Infinity`` are not JSON);
- nesting: the depth is measured by a cheap scan of the brackets outside strings *before*
  parsing; a value nested deeper than :data:`MAX_DEPTH` is cut out and replaced by an
  :class:`OutOfBounds` marker, so the rest of the body stays readable (a phone center's
  ``request_id`` can still be answered); a body whose brackets never close is not JSON;
- numbers: an integer of more than :data:`MAX_INT_DIGITS` digits, a number literal longer than
  :data:`MAX_NUMBER_CHARS` characters or one that is not finite becomes an :class:`OutOfBounds`;
- strings and keys: a lone surrogate (``\\ud800`` … ``\\udfff`` not in a pair) is named by
  :func:`problems`.

``loads(raw)`` (strict, the default) raises :class:`BodyError` naming every such field;
``loads(raw, strict=False)`` returns the document with the markers in place, for a caller
that validates it itself and wants to name the fields with the rest of its errors (intake).
"""
from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_BODY_BYTES = 256 * 1024
MAX_DEPTH = 32
MAX_INT_DIGITS = 30
MAX_NUMBER_CHARS = 100
MAX_PROBLEMS = 20          # errors reported per body (a body may hold thousands)
MAX_FIELD_CHARS = 200      # a field path in an error is cut to this length

# strings (skipped whole), brackets, and the non-JSON constants Python's parser would accept
_TOKENS = re.compile(r'"(?:[^"\\]+|\\.)*"|[\[{]+|[\]}]+|NaN|-?Infinity')
_CUT = "NaN"               # what a cut-out subtree is replaced with before parsing
_SURROGATE = re.compile("[\ud800-\udfff]")


class BodyError(ValueError):
    """The body cannot be read, or (strict) holds values beyond the bounds: ``errors`` is a
    list of ``{"field", "message"}`` (``"(body)"`` for the body as a whole)."""

    def __init__(self, errors: list[dict]):
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors

    @property
    def whole_body(self) -> bool:
        return all(e["field"] == "(body)" for e in self.errors)


class OutOfBounds:
    """Stands in for a value that went beyond the bounds (``reason`` says which)."""

    __slots__ = ("reason",)

    def __init__(self, reason: str):
        self.reason = reason

    def __repr__(self) -> str:
        return f"OutOfBounds({self.reason!r})"


def _body_error(message: str) -> BodyError:
    return BodyError([{"field": "(body)", "message": message}])


def _cut_deep(text: str, max_depth: int) -> str:
    """``text`` with every value nested deeper than ``max_depth`` replaced by ``NaN``
    (unchanged when nothing is that deep); BodyError when brackets are unbalanced that deep
    or the text holds NaN/Infinity outside strings."""
    if text.count("[") + text.count("{") <= max_depth and "NaN" not in text \
            and "Infinity" not in text:
        return text               # nothing can be that deep: no scan needed
    depth, cut_at, last, pieces = 0, None, 0, []
    for m in _TOKENS.finditer(text):
        tok, start = m.group(), m.start()
        first = tok[0]
        if first == '"':
            continue
        if first in "[{":                 # a run of openers
            if cut_at is None and depth + len(tok) > max_depth:
                cut_at = start + (max_depth - depth)
            depth += len(tok)
        elif first in "]}":               # a run of closers
            if depth - len(tok) < 0:
                break                     # more closers than openers: json.loads says where
            if cut_at is not None and depth - len(tok) <= max_depth:
                end = start + (depth - max_depth)
                pieces += (text[last:cut_at], _CUT)
                last, cut_at = end, None
            depth -= len(tok)
        elif cut_at is None:
            raise _body_error(f"is not JSON ({tok} is not a JSON number)")
    if cut_at is not None:
        raise _body_error(f"is not JSON (nested deeper than {max_depth} levels and never closed)")
    if not pieces:
        return text
    pieces.append(text[last:])
    return "".join(pieces)


def _parse_int(s: str):
    if len(s.lstrip("-")) > MAX_INT_DIGITS:
        return OutOfBounds(f"is a number with more than {MAX_INT_DIGITS} digits")
    return int(s)


def _parse_float(s: str):
    if len(s) > MAX_NUMBER_CHARS:
        return OutOfBounds(f"is a number longer than {MAX_NUMBER_CHARS} characters")
    value = float(s)
    if not math.isfinite(value):
        return OutOfBounds("is a number out of range")
    return value


def _too_deep(_constant: str):
    return OutOfBounds(f"is nested deeper than {MAX_DEPTH} levels")


def loads(raw: bytes | str, *, strict: bool = True, max_bytes: int = MAX_BODY_BYTES,
          max_depth: int = MAX_DEPTH) -> Any:
    """The JSON document in ``raw`` (bytes are UTF-8), read within the bounds above.

    Raises :class:`BodyError`: for the body as a whole (too large, not UTF-8, not JSON); with
    ``strict`` also for any field beyond the bounds, naming each (see :func:`problems`)."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    if len(raw) > max_bytes:
        raise _body_error(f"is {len(raw)} bytes; the limit is {max_bytes} ({max_bytes // 1024} KiB)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _body_error(f"is not UTF-8 ({exc})") from None
    text = _cut_deep(text, max_depth)
    try:
        doc = json.loads(text, parse_int=_parse_int,
                         parse_float=_parse_float, parse_constant=_too_deep)
    except RecursionError:       # the scan above should make this impossible: a last line
        raise _body_error("is not JSON (nested too deeply)") from None
    except ValueError as exc:
        raise _body_error(f"is not JSON ({exc})") from None
    if strict:
        found = problems(doc)
        if found:
            raise BodyError(found)
    return doc


def has_lone_surrogate(text: str) -> bool:
    return _SURROGATE.search(text) is not None


def printable(text: str, limit: int = MAX_FIELD_CHARS) -> str:
    """``text`` safe to write anywhere as UTF-8 (lone surrogates as ``\\udXXX``), cut to
    ``limit`` characters."""
    if len(text) > limit:
        text = text[:limit] + "…"
    if has_lone_surrogate(text):
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _field(path: tuple) -> str:
    return printable(".".join(str(p) for p in path) or "(body)")


_BAD_KEY = object()


def problems(doc: Any, limit: int = MAX_PROBLEMS) -> list[dict]:
    """``{"field", "message"}`` for every value of ``doc`` beyond the bounds: markers left by
    :func:`loads` and strings or keys with a lone surrogate (at most ``limit`` of them)."""
    out: list[dict] = []
    stack: list[tuple[tuple, Any]] = [((), doc)]
    while stack and len(out) < limit:
        path, value = stack.pop()
        if value is _BAD_KEY:
            out.append({"field": _field(path), "message": "is a field name with a lone "
                                                          "surrogate (not valid Unicode text)"})
        elif isinstance(value, OutOfBounds):
            out.append({"field": _field(path), "message": value.reason})
        elif isinstance(value, str):
            if has_lone_surrogate(value):
                out.append({"field": _field(path),
                            "message": "contains a lone surrogate (not valid Unicode text)"})
        elif isinstance(value, dict):
            stack.extend((path + (k,), _BAD_KEY if has_lone_surrogate(k) else v)
                         for k, v in reversed(list(value.items())))
        elif isinstance(value, list):
            stack.extend((path + (i,), v) for i, v in reversed(list(enumerate(value))))
    return out[:limit]
