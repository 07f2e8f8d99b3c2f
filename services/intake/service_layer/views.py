"""Intake's read side: the ticket view, the ticket list and the open-ticket gauges, built from
queries; nothing here changes state.

A ticket shows one ``status``: its overall state, derived from the service desk's
``intake_state`` and the job's latest state (:mod:`.timeline`). The ``intake_state`` itself is
not shown."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from aftersales.auth import Forbidden
from aftersales.errors import InvalidInput, NotFound
from aftersales.localtime import iso
from aftersales.scoping import scope

from ..adapters.repository import TicketRepository
from ..domain import model


def warranty_of(t: dict) -> dict:
    """A ticket row's warranty decision as JSON."""
    return model.WarrantyDecision(t["warranty_status"], t["warranty_ends_on"],
                                  t["warranty_component"]).as_dict()


def _summary(t: dict) -> dict:
    req = t["request"]
    return {
        "ticket_no": t["ticket_no"], "branch": t["branch"], "status": t["status"],
        "priority": t["priority"], "category": t["category"],
        "classified_by": t["classification_rule"], "channel": t["channel"],
        "source": t["source"], "request_id": t["request_id"], "received_at": req["received_at"],
        "linked_to": t["linked_to"],
        "first_contact_at": iso(t["first_contact_at"]),
        "customer": req["customer"], "site": req["site"], "asset": req["asset"],
        "fault": req["fault"],
        "warranty": warranty_of(t),
    }


def ticket_view(uow, ticket_no: str, principal) -> dict:
    """The ticket and its timeline; NotFound for a ticket of a branch the key may not see."""
    with uow:
        uow.snapshot()   # the status and the timeline it was derived from, read together
        t = uow.tickets.get(ticket_no)
        if t is None or not principal.can_access(t["branch"]):
            raise NotFound(f"no ticket {ticket_no}")
        events = uow.tickets.timeline(ticket_no)
    return {**_summary(t),
            "timeline": [{"type": e["type"], "source": e["source"],
                          "occurred_at": iso(e["occurred_at"]), "event_id": e["event_id"],
                          **(e["data"] or {})} for e in events]}


def search(uow, principal, query: dict, tz: str = "Asia/Shanghai") -> dict:
    """List/search tickets: branch, status, priority, customer phone, received date range
    (``from``/``to`` as dates in ``tz``, inclusive), paginated (``page``, ``per_page`` ≤ 200)."""
    errors = []

    def _int(name, default, lo, hi):
        raw = query.get(name)
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
            if not lo <= value <= hi:
                raise ValueError
            return value
        except ValueError:
            errors.append({"field": name, "message": f"must be a whole number from {lo} to {hi}"})
            return default

    def _day(name):
        raw = query.get(name)
        if raw in (None, ""):
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            errors.append({"field": name, "message": "must be a date (YYYY-MM-DD)"})
            return None

    page, per_page = _int("page", 1, 1, 100_000), _int("per_page", 50, 1, 200)
    d_from, d_to = _day("from"), _day("to")
    branch = query.get("branch") or None
    if query.get("priority") and query["priority"] not in ("A", "B", "C"):
        errors.append({"field": "priority", "message": "must be A, B or C"})
    if errors:
        raise InvalidInput(errors)
    try:
        branch = scope(principal, branch)
    except Forbidden:
        raise NotFound(f"no tickets visible for branch {branch}") from None
    zone = ZoneInfo(tz)
    start = datetime.combine(d_from, datetime.min.time(), zone) if d_from else None
    end = datetime.combine(d_to + timedelta(days=1), datetime.min.time(), zone) if d_to else None
    with uow:
        rows, total = uow.tickets.search(branch=branch, status=query.get("status") or None,
                                         priority=query.get("priority") or None,
                                         phone=query.get("phone") or None, received_from=start,
                                         received_to=end, page=page, per_page=per_page)
    return {"tickets": [_summary(r) for r in rows], "total": total, "page": page,
            "per_page": per_page}


def gauges(session, settings) -> list[tuple]:
    """``aftersales_tickets_open``: the tickets not yet in a final status, by status, priority
    and branch (the ``Store``'s scrape-time gauges)."""
    rows = TicketRepository(session).counts_by()
    samples = [((status, prio, branch), n) for status, prio, branch, n in rows
               if status in model.OPEN_STATUSES]
    return [("aftersales_tickets_open", "Open tickets by state.", ["state", "priority", "branch"],
             samples)]
