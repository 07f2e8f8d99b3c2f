"""Live updates for open pages (pure): which platform events a page is told about, what of
an event it is told (its type, ticket and branch, never the event's data: nothing personal),
who may see it (a branch user their branch's events, HQ every branch's), and the
server-sent-events lines (``text/event-stream``) it travels in."""
from __future__ import annotations

import json
from dataclasses import dataclass

HQ = "HQ"
HEARTBEAT_S = 15.0          # a comment line this often keeps proxies and the browser patient
RETRY_MS = 3000             # the browser reconnects this long after the stream ended
# the events a live page reacts to by name (the board refreshes its jobs on each of them);
# every other ticket event is passed on too, under its own type
BOARD_EVENTS = ("ticket_opened", "ticket_cancelled", "ticket_resolved", "ticket_reclassified",
                "engineer_assigned", "assignment_failed", "job_accepted", "job_declined",
                "appointment_set", "engineer_en_route", "engineer_checked_in", "job_diagnosed",
                "job_completed", "job_rework", "job_closed", "sla_at_risk", "sla_breached",
                "sla_stage_completed")
_MAX = 64                   # a type, ticket number or branch longer than this is not one


@dataclass(frozen=True)
class LiveEvent:
    type: str
    ticket_no: str | None
    branch: str | None
    occurred_at: str | None = None

    def as_dict(self) -> dict:
        return {"type": self.type, "ticket_no": self.ticket_no, "branch": self.branch,
                "occurred_at": self.occurred_at}


def _text(value) -> str | None:
    if not isinstance(value, str) or not value or len(value) > _MAX:
        return None
    # one line of plain text: an SSE field must not carry a line break
    return value if value.isprintable() else None


def from_envelope(doc) -> LiveEvent | None:
    """The live event of an envelope (a decoded JSON document), None when it is not one
    (no type, no branch: nobody could be shown it)."""
    if not isinstance(doc, dict):
        return None
    type_, branch = _text(doc.get("type")), _text(doc.get("branch"))
    if type_ is None or branch is None:
        return None
    return LiveEvent(type=type_, ticket_no=_text(doc.get("ticket_no")), branch=branch,
                     occurred_at=_text(doc.get("occurred_at")))


def scope(user_branch: str, asked: str | None = None) -> str:
    """The branch a subscriber sees: a branch user their own whatever they ask, HQ every
    branch (``HQ``) or the one it asks for."""
    if user_branch != HQ:
        return user_branch
    asked = (asked or "").strip().upper()
    return asked if asked and asked != HQ and len(asked) <= _MAX and asked.isalnum() else HQ


def visible(event: LiveEvent, branch: str) -> bool:
    """Whether a subscriber scoped to ``branch`` (see :func:`scope`) is shown the event."""
    return branch == HQ or event.branch == branch


def sse(event: LiveEvent) -> str:
    """The event as one server-sent event: its type as the event name (``sse:<type>`` in
    htmx), its fields as one JSON line."""
    data = json.dumps(event.as_dict(), ensure_ascii=False, separators=(",", ":"))
    return f"event: {event.type}\ndata: {data}\n\n"


def sse_hello(bus_ready: bool = True) -> str:
    """The first lines of a stream: the reconnection delay and a comment (the headers go out
    with it) saying whether the console hears the bus yet."""
    return f"retry: {RETRY_MS}\n: connected, bus {'ready' if bus_ready else 'reconnecting'}\n\n"


def sse_heartbeat() -> str:
    return ": heartbeat\n\n"
