"""The service desk's pages (客服): file a repair request with a live warranty lookup, and the
ticket page (its data, timeline, SLA clocks and the cancel action). Agents and managers (and
admins); an HQ user files for the branch they choose and sees every branch's tickets.

Everything comes from the services' APIs, called with the user's minted key: intake's
``POST /api/v1/tickets``, ``GET /api/v1/tickets[/<no>]`` and ``POST .../cancel``, dispatch's
``GET /api/v1/jobs/<no>/sla``."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from urllib.parse import quote

from aftersales.contracts.common import CATEGORIES, CHANNELS, PRIORITIES
from aftersales.reference import branches

from . import web
from .adapters.api import ApiError
from .pages import Visit, _page, client, visit_of

DESK_ROLES = ("agent", "manager", "admin")
SOURCE = "console"            # intake's (source, request_id) idempotency key: the console's own
LOOKUP_TICKETS = 200          # the warranty lookup searches the branch's latest tickets
SLA_STAGES = ("response", "dispatch", "arrival", "resolution")
# the form's fields are named by the API's (dotted) paths, so a field error lands next to it
FIELDS = ("customer.name", "customer.contact_name", "customer.phone", "customer.email",
          "site.address", "site.project", "site.contract_no", "asset.serial_no", "asset.model",
          "asset.component", "fault.description", "fault.category", "priority", "branch",
          "channel")
# sent even when empty, so that intake names the field itself ("must not be empty")
REQUIRED = ("customer.name", "customer.contact_name", "customer.phone", "site.address",
            "fault.description")


def _desk_visit(ctx, request):
    """(visit, None) for a desk user; (None, response) otherwise: the login page or 403."""
    visit = visit_of(ctx, request)
    if visit is None:
        return None, web.redirect(web.LOGIN)
    if visit.user.role not in DESK_ROLES:
        return None, _page(request, visit, "error.html", status=403, message="error.forbidden")
    return visit, None


def request_body(form, user, now: datetime | None = None) -> dict:
    """intake's repair request from the form: empty optional fields left out; a branch user's
    own branch (an HQ user names one)."""
    def value(name):
        return (form.get(name) or "").strip()

    body: dict = {"request_id": value("request_id") or new_request_id(), "source": SOURCE,
                  "branch": value("branch") if user.is_hq else user.branch,
                  "channel": value("channel") or "phone",
                  "received_at": (now or datetime.now(timezone.utc)).isoformat()}
    for name in FIELDS:
        part, _, key = name.partition(".")
        if key and (value(name) or name in REQUIRED):
            body.setdefault(part, {})[key] = value(name)
    if value("priority"):
        body["priority"] = value("priority")
    return body


def new_request_id() -> str:
    return f"DESK-{uuid.uuid4().hex[:16]}"


def _form_page(request, visit, status=200, values=None, field_errors=None, error=None):
    values = dict(values or {})
    values.setdefault("request_id", new_request_id())
    return _page(request, visit, "desk/new.html", status=status, values=values,
                 field_errors=field_errors or {}, error=error, categories=CATEGORIES,
                 priorities=PRIORITIES, channels=CHANNELS, branch_codes=sorted(branches()))


def new_form(ctx, request):
    visit, refused = _desk_visit(ctx, request)
    return refused or _form_page(request, visit)


def new_submit(ctx, request):
    """File the request with intake; on success to the ticket page, else the form again with
    the API's field errors next to their fields (the same request_id: a repeat is safe)."""
    visit, refused = _desk_visit(ctx, request)
    if refused:
        return refused
    form = request.form
    values = {k: form.get(k, "") for k in (*FIELDS, "request_id")}
    if not visit.session.csrf_ok(form.get("csrf")):
        return _form_page(request, visit, 400, values, error="error.csrf")
    try:
        answer = client(ctx, visit).post("intake", "/api/v1/tickets",
                                         request_body(form, visit.user))
    except ApiError as exc:
        return _form_page(request, visit, 422 if exc.errors else 502, values,
                          field_errors=exc.field_errors(),
                          error="desk.fix_fields" if exc.errors else None)
    return web.redirect(ticket_url(answer["ticket_no"]))


def ticket_url(ticket_no: str) -> str:
    return "/console/tickets/" + quote(ticket_no, safe="")


# -- the warranty lookup (an htmx fragment) --------------------------------------------------
def history_of(tickets: list[dict], serial_no: str) -> list[dict]:
    """The tickets (newest first) whose asset has this serial number (case-insensitive)."""
    wanted = serial_no.strip().casefold()
    return [t for t in tickets
            if wanted and ((t.get("asset") or {}).get("serial_no") or "").strip().casefold()
            == wanted]


def asset_lookup(ctx, request):
    """The asset's warranty as intake decided it on its latest ticket and its service history
    (past tickets), from intake's ticket list: intake has no lookup by serial number yet, so
    the branch's latest :data:`LOOKUP_TICKETS` tickets are searched."""
    visit, refused = _desk_visit(ctx, request)
    if refused:
        return refused
    serial = (request.args.get("asset.serial_no") or "").strip()[:100]
    history, error = [], None
    if serial:
        params = {"per_page": str(LOOKUP_TICKETS)}
        branch = (request.args.get("branch") or "").strip()[:20]
        if visit.user.is_hq and branch:
            params["branch"] = branch
        try:
            answer = client(ctx, visit).get("intake", "/api/v1/tickets", params=params)
            history = history_of(answer.get("tickets") or [], serial)
        except ApiError as exc:
            error = exc.message
    return _page(request, visit, "desk/asset.html", serial=serial, history=history,
                 error=error, limit=LOOKUP_TICKETS, ticket_url=ticket_url)


# -- the ticket page ---------------------------------------------------------------------------
def sla_rows(sla: dict | None) -> list[dict]:
    """dispatch's clocks in the stages' order."""
    clocks = {c.get("stage"): c for c in (sla or {}).get("clocks") or []}
    return [clocks[s] for s in SLA_STAGES if s in clocks]


def ticket_page(ctx, request, ticket_no: str, status=200, cancel_errors=None,
                cancel_error=None, reason=""):
    visit, refused = _desk_visit(ctx, request)
    if refused:
        return refused
    api = client(ctx, visit)
    path = "/api/v1/tickets/" + quote(ticket_no, safe="")
    try:
        ticket = api.get("intake", path)
    except ApiError as exc:
        if exc.status == 404:
            return _page(request, visit, "error.html", status=404,
                         message="desk.ticket.not_found")
        return _page(request, visit, "desk/ticket.html", status=502, ticket=None,
                     error=exc.message, ticket_no=ticket_no)
    sla, sla_error = None, None
    try:
        sla = api.get("dispatch", "/api/v1/jobs/" + quote(ticket_no, safe="") + "/sla")
    except ApiError as exc:
        if exc.status != 404:
            sla_error = exc.message
    return _page(request, visit, "desk/ticket.html", status=status, ticket=ticket,
                 ticket_no=ticket_no, sla=sla, clocks=sla_rows(sla), sla_error=sla_error,
                 cancel_errors=cancel_errors or {}, cancel_error=cancel_error, reason=reason,
                 timeline=list(reversed(ticket.get("timeline") or [])), error=None)


def cancel(ctx, request, ticket_no: str):
    """The agent cancels the ticket (a reason; CSRF-checked); back to the ticket page, with
    intake's refusal (409) or field errors (422) shown there."""
    visit, refused = _desk_visit(ctx, request)
    if refused:
        return refused
    reason = (request.form.get("reason") or "").strip()
    if not visit.session.csrf_ok(request.form.get("csrf")):
        return _page(request, visit, "error.html", status=400, message="error.csrf")
    try:
        client(ctx, visit).post("intake", "/api/v1/tickets/" + quote(ticket_no, safe="")
                                + "/cancel", {"reason": reason})
    except ApiError as exc:
        return ticket_page(ctx, request, ticket_no, status=exc.status if exc.status < 500
                           else 502, cancel_errors=exc.field_errors(),
                           cancel_error=None if exc.errors else exc.message, reason=reason)
    return web.redirect(ticket_url(ticket_no))


__all__ = ["Visit", "asset_lookup", "cancel", "new_form", "new_submit", "ticket_page"]
