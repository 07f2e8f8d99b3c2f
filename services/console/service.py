"""The console nameko service: server-rendered pages for the department's people (login,
home, the ticket list) over the four services' HTTP APIs. It owns only users and sessions;
every page's data comes from the services, called with a short-lived key minted for the
logged-in user. The routes hand over to ``pages.py``."""
from __future__ import annotations

import logging
import os
from pathlib import Path

from nameko.extensions import DependencyProvider

from aftersales.openapi import documented
from aftersales.service import BaseService, Store
from aftersales.web import http

from . import pages, pages_desk, web
from .adapters.api import base_url
from .adapters.unit_of_work import ConsoleUnitOfWork
from .domain.model import DEFAULT_SESSION_HOURS
from .service_layer.keys import KeyMinter

log = logging.getLogger(__name__)
HTML = {"text/html": {"schema": {"type": "string"}}}


class Keys(DependencyProvider):
    """One key minter per process (its cache of keys by session)."""

    def setup(self):
        self.minter = KeyMinter(self.container.config["AFTERSALES"]["secret"])
        self.session_hours = float(os.environ.get("CONSOLE_SESSION_HOURS",
                                                  DEFAULT_SESSION_HOURS))

    def start(self):
        log.info("console pages at http://%s/console; it calls intake at %s",
                 self.container.config.get("WEB_SERVER_ADDRESS"), base_url("intake"))

    def get_dependency(self, worker_ctx):
        return self


def page(summary: str, media=None):
    return documented(summary=summary, media=media or HTML)


class ConsoleService(BaseService):
    """The web console (控制台): HTML pages for agents, dispatchers, managers and engineers."""

    name = "console"
    store = Store(Path(__file__).parent / "migrations", ConsoleUnitOfWork)
    keys = Keys()

    def _ctx(self) -> pages.Context:
        return pages.Context(uow=self.store.uow, minter=self.keys.minter,
                             session_hours=self.keys.session_hours)

    @http("GET", "/")
    @page("The console's entry: the login page, or the home page when logged in.")
    def root(self, request):
        return pages.entry(self._ctx(), request)

    @http("GET", "/console")
    @page("The console's entry: the login page, or the home page when logged in.")
    def console(self, request):
        return pages.entry(self._ctx(), request)

    @http("GET", "/console/login")
    @page("The login form.")
    def login_form(self, request):
        return pages.login_form(self._ctx(), request)

    @http("POST", "/console/login")
    @page("Log in (form: login, password, csrf); a session cookie on success.")
    def login(self, request):
        return pages.login_submit(self._ctx(), request)

    @http("POST", "/console/logout")
    @page("Log out (form: csrf).")
    def logout(self, request):
        return pages.logout(self._ctx(), request)

    @http("GET", "/console/lang")
    @page("Switch the language (to=zh or en; back=the page to return to).")
    def lang(self, request):
        return pages.switch_language(self._ctx(), request)

    @http("GET", "/console/home")
    @page("The home page: the user's name, role and branch.")
    def home(self, request):
        return pages.home(self._ctx(), request)

    @http("GET", "/console/tickets")
    @page("The ticket list of the user's branch (HQ: all), from intake's API.")
    def tickets(self, request):
        return pages.tickets(self._ctx(), request)

    @http("GET", "/console/static/<path:name>")
    @page("The console's style sheet and vendored scripts.",
          media={"text/css": {"schema": {"type": "string"}}})
    def static(self, request, name):
        return web.static_file(name)

    # -- desk ----
    @http("GET", "/console/desk/new")
    @page("The service desk's new-request form (agents, managers; HQ names the branch).")
    def desk_new_form(self, request):
        return pages_desk.new_form(self._ctx(), request)

    @http("POST", "/console/desk/new")
    @page("File a repair request with intake (form: the request's fields, csrf); to the "
          "ticket page, or the form with intake's field errors.")
    def desk_new_submit(self, request):
        return pages_desk.new_submit(self._ctx(), request)

    @http("GET", "/console/desk/asset")
    @page("The warranty lookup as the serial number is typed (an htmx fragment): the asset's "
          "warranty and its past tickets.")
    def desk_asset(self, request):
        return pages_desk.asset_lookup(self._ctx(), request)

    @http("GET", "/console/tickets/<string:ticket_no>")
    @page("The ticket page: its data, timeline, SLA clocks and the cancel action.")
    def desk_ticket(self, request, ticket_no):
        return pages_desk.ticket_page(self._ctx(), request, ticket_no)

    @http("POST", "/console/tickets/<string:ticket_no>/cancel")
    @page("Cancel the ticket (form: reason, csrf).")
    def desk_cancel(self, request, ticket_no):
        return pages_desk.cancel(self._ctx(), request, ticket_no)
