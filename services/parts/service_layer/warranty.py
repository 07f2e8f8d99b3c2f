"""Whether a parts request is in warranty: the platform's decision, never the client's.

Intake decides warranty coverage when it opens a ticket (``ticket_opened``: ``warranty.status``);
dispatch may change it at diagnosis (void: misuse, modification, ...) and says so in every
``parts_requested`` (``in_warranty``). Parts keeps the latest word per ticket in
``ticket_warranty``. A request over HTTP takes its warranty from there:

- known ticket of the request's branch: its decision;
- known ticket of another branch: refused (422 naming ``ticket_no``);
- ticket parts has no decision for (not opened yet, or not a ticket): out of warranty, so it
  is never auto-approved and waits for the branch manager (who sees it chargeable).

Auto-approval compares the ticket's total: what was auto-approved for the ticket before
(not cancelled) plus this request, against ``PARTS_AUTO_APPROVE_LIMIT``.
"""
from __future__ import annotations

from decimal import Decimal

from aftersales.contracts.envelope import Envelope, utcnow
from aftersales.errors import InvalidInput

from ..adapters.warranty import WarrantyRepository
from ..domain import requests as rq


def on_ticket_opened(uow, env: Envelope) -> None:
    """``ticket_opened``: keep the ticket's branch and intake's warranty decision (a
    duplicate's answer changes nothing)."""
    if env.data.get("duplicate"):
        return
    status = (env.data.get("warranty") or {}).get("status") or "unknown_asset"
    WarrantyRepository(uow.session).put(env.ticket_no or env.data["ticket_no"], env.branch,
                                        status == "in_warranty", status, "ticket_opened",
                                        utcnow())


def record_dispatch_decision(uow, ticket_no: str, branch: str, in_warranty: bool) -> None:
    """Dispatch's word in ``parts_requested`` (in the caller's unit of work)."""
    WarrantyRepository(uow.session).put(ticket_no, branch, in_warranty,
                                        "in_warranty" if in_warranty else "chargeable",
                                        "parts_requested", utcnow())


def in_warranty_for(uow, ticket_no: str, branch: str) -> bool:
    """The platform's decision for an HTTP request (in the caller's unit of work)."""
    known = WarrantyRepository(uow.session).get(ticket_no)
    if known is None:
        return False
    if known["branch"] != branch:
        raise InvalidInput([{"field": "ticket_no",
                             "message": f"is not a ticket of branch {branch}"}])
    return bool(known["in_warranty"])


def auto_approved_before(uow, ticket_no: str) -> Decimal:
    """Cost of the ticket's earlier requests approved without a manager (not cancelled)."""
    return sum((r.cost_total for r in uow.requests.for_ticket(ticket_no)
                if r.auto_approved and r.status != rq.CANCELLED), Decimal(0))
