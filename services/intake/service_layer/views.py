"""Intake's read side: the ticket view, the ticket list and the open-ticket gauges, built from
queries; nothing here changes state.

A ticket shows one ``status``: its overall state, derived from the service desk's
``intake_state`` and the job's latest state (:mod:`.timeline`). The ``intake_state`` itself is
not shown."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aftersales.auth import Forbidden
from aftersales.errors import NotFound
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
    return {**_summary(t), "timeline": [timeline_entry(e) for e in events]}


ENTRY_FIELDS = ("type", "source", "occurred_at", "event_id")


def timeline_entry(e: dict) -> dict:
    """A timeline row as JSON: the envelope's type, source (the publishing service), time and
    id, then what the timeline keeps of the event's data. A data field of the same name as one
    of the envelope's (``complaint_registered``'s ``source``: where the complaint came from) is
    kept as ``data_<name>``, never in place of the envelope's."""
    data = {(f"data_{k}" if k in ENTRY_FIELDS else k): v for k, v in (e["data"] or {}).items()}
    return {**data, "type": e["type"], "source": e["source"],
            "occurred_at": iso(e["occurred_at"]), "event_id": e["event_id"]}


def search(uow, principal, query, tz: str = "Asia/Shanghai") -> dict:
    """List/search tickets (``query``: a :class:`~services.intake.bodies.TicketQuery`, already
    validated): branch, status, priority, customer phone, received date range (``from``/``to``
    as dates in ``tz``, inclusive), paginated (``page``, ``per_page`` ≤ 200)."""
    try:
        branch = scope(principal, query.branch)
    except Forbidden:
        raise NotFound(f"no tickets visible for branch {query.branch}") from None
    zone = ZoneInfo(tz)
    start = datetime.combine(query.from_, datetime.min.time(), zone) if query.from_ else None
    end = (datetime.combine(query.to + timedelta(days=1), datetime.min.time(), zone)
           if query.to else None)
    with uow:
        rows, total = uow.tickets.search(branch=branch, status=query.status,
                                         priority=query.priority, phone=query.phone,
                                         received_from=start, received_to=end, page=query.page,
                                         per_page=query.per_page)
    return {"tickets": [_summary(r) for r in rows], "total": total, "page": query.page,
            "per_page": query.per_page}


def gauges(session, settings) -> list[tuple]:
    """``aftersales_tickets_open``: the tickets not yet in a final status, by status, priority
    and branch (the ``Store``'s scrape-time gauges)."""
    rows = TicketRepository(session).counts_by()
    samples = [((status, prio, branch), n) for status, prio, branch, n in rows
               if status in model.OPEN_STATUSES]
    return [("aftersales_tickets_open", "Open tickets by state.", ["state", "priority", "branch"],
             samples)]
