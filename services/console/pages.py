"""The console's pages: what each route does with the request, the session and the services'
APIs. The nameko class (``service.py``) only routes to these functions."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

from aftersales.reference import branches

from . import web
from .adapters.api import ApiError, ServiceClient
from .domain import model
from .service_layer import users as people
from .service_layer.keys import KeyMinter

log = logging.getLogger(__name__)
# intake's ticket states (its API's ``status`` filter), open ones first
STATES = ("open", "linked", "escalated", "assigned", "accepted", "scheduled", "en_route",
          "on_site", "diagnosed", "quoted", "rework", "completed", "closed", "resolved",
          "cancelled")
PRIORITIES = ("A", "B", "C")


@dataclass
class Context:
    """What a page needs: units of work, the key minter, the session's hours, and (tests)
    the services' URLs."""
    uow: Callable
    minter: KeyMinter
    session_hours: float = model.DEFAULT_SESSION_HOURS
    urls: dict | None = None


@dataclass
class Visit:
    """The logged-in person of a request."""
    session: model.Session
    user: model.User


def visit_of(ctx: Context, request) -> Visit | None:
    found = people.current(ctx.uow(), request.cookies.get(web.SESSION_COOKIE))
    return Visit(*found) if found else None


def client(ctx: Context, visit: Visit) -> ServiceClient:
    return ServiceClient(ctx.minter.key_for(visit.session.token_hash, visit.user), ctx.urls)


def _page(request, visit: Visit, template: str, status: int = 200, **context):
    return web.render(request, template, status=status, user=visit.user,
                      csrf=visit.session.csrf_token, **context)


# -- entry, login, logout, language -----------------------------------------------------------
def entry(ctx: Context, request):
    return web.redirect(web.HOME if visit_of(ctx, request) else web.LOGIN)


def login_form(ctx: Context, request, status: int = 200, error: str | None = None,
               login: str = ""):
    if error is None and visit_of(ctx, request):
        return web.redirect(web.HOME)
    token = request.cookies.get(web.LOGIN_CSRF_COOKIE) or model.new_token()
    resp = web.render(request, "login.html", status=status, csrf=token, error=error,
                      login=login)
    web.set_cookie(resp, web.LOGIN_CSRF_COOKIE, token)
    return resp


def login_submit(ctx: Context, request):
    form = request.form
    login = (form.get("login") or "").strip()
    if not model.check_csrf(request.cookies.get(web.LOGIN_CSRF_COOKIE), form.get("csrf")):
        return login_form(ctx, request, status=400, error="login.expired", login=login)
    done = people.log_in(ctx.uow(), login, form.get("password") or "", hours=ctx.session_hours)
    if done is None:
        # not the login itself: people type their password into that field too
        log.info("console login refused")
        return login_form(ctx, request, status=401, error="login.failed", login=login)
    token, session, _ = done
    resp = web.redirect(web.HOME)
    web.set_cookie(resp, web.SESSION_COOKIE, token, max_age=int(ctx.session_hours * 3600))
    web.clear_cookie(resp, web.LOGIN_CSRF_COOKIE)
    return resp


def logout(ctx: Context, request):
    visit = visit_of(ctx, request)
    if visit is not None:
        if not visit.session.csrf_ok(request.form.get("csrf")):
            return _page(request, visit, "error.html", status=400, message="error.csrf")
        people.log_out(ctx.uow(), request.cookies.get(web.SESSION_COOKIE))
        ctx.minter.forget(visit.session.token_hash)
    resp = web.redirect(web.LOGIN)
    web.clear_cookie(resp, web.SESSION_COOKIE)
    return resp


def switch_language(ctx: Context, request):
    resp = web.redirect(web.safe_return(request.args.get("back")))
    web.set_cookie(resp, web.LANG_COOKIE, web.i18n.pick(request.args.get("to")),
                   max_age=365 * 86400, http_only=False)
    return resp


# -- pages of a logged-in person --------------------------------------------------------------
def home(ctx: Context, request):
    visit = visit_of(ctx, request)
    if visit is None:
        return web.redirect(web.LOGIN)
    return _page(request, visit, "home.html")


def tickets(ctx: Context, request):
    """The ticket list of the user's branch (HQ: every branch, or the one chosen) from
    intake's ``GET /api/v1/tickets``, filtered by state, priority and the customer's phone."""
    visit = visit_of(ctx, request)
    if visit is None:
        return web.redirect(web.LOGIN)
    args = request.args
    filters = {name: (args.get(name) or "").strip()[:64]
               for name in ("status", "priority", "phone", "branch")}
    if not visit.user.is_hq:
        filters["branch"] = ""          # intake scopes a branch key to its own branch
    params = {k: v for k, v in filters.items() if v}
    params["per_page"] = "50"
    answer, error, field_errors = None, None, {}
    try:
        answer = client(ctx, visit).get("intake", "/api/v1/tickets", params=params)
    except ApiError as exc:
        error, field_errors = exc.message, exc.field_errors()
    return _page(request, visit, "tickets.html", status=200, answer=answer, error=error,
                 field_errors=field_errors, filters=filters, states=STATES,
                 priorities=PRIORITIES, branch_codes=sorted(branches()))
