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
from . import pages_board  # noqa: E402  (board)
from .live_provider import LiveUpdates  # (board)

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

    # -- engineer ----
    @http("GET", "/console/jobs")
    @page("My jobs (the engineer's own, from dispatch's API), open ones first.")
    def engineer_jobs(self, request):
        return pages_engineer.jobs(self._ctx(), request)

    @http("GET", "/console/jobs/<string:ticket_no>")
    @page("The job page with the steps its state allows, its photos and signature.")
    def engineer_job(self, request, ticket_no):
        return pages_engineer.job(self._ctx(), request, ticket_no)

    @http("POST", "/console/jobs/<string:ticket_no>/photo")
    @page("Add a photo (multipart: photo, caption, csrf), forwarded to dispatch.")
    def engineer_photo(self, request, ticket_no):
        return pages_engineer.photo(self._ctx(), request, ticket_no)

    @http("POST", "/console/jobs/<string:ticket_no>/<string:action>")
    @page("A step of the job (form fields as dispatch's body, csrf); back to the job page.")
    def engineer_act(self, request, ticket_no, action):
        return pages_engineer.act(self._ctx(), request, ticket_no, action)

    @http("GET", "/console/jobs/<string:ticket_no>/evidence/<string:sha256>")
    @page("A photo or signature of the job, read from dispatch with the user's key.",
          media={"image/png": {"schema": {"type": "string", "format": "binary"}}})
    def engineer_evidence(self, request, ticket_no, sha256):
        return pages_engineer.evidence(self._ctx(), request, ticket_no, sha256)

    # -- board ----
    live = LiveUpdates()

    @http("GET", "/console/live")
    @page("Live updates of the user's branch (HQ: every branch, or ?branch=): server-sent "
          "events, one per platform event about a ticket (type, ticket_no, branch).",
          media={"text/event-stream": {"schema": {"type": "string"}}})
    def live_updates(self, request):
        return pages_board.live_stream(self._ctx(), request, self.live.hub,
                                       self.live.consumer.connected.is_set(),
                                       self.live.heartbeat)

    @http("GET", "/console/board")
    @page("The dispatch board of the user's branch (HQ: all, or ?branch=), from dispatch's API.")
    def board(self, request):
        return pages_board.board(self._ctx(), request)

    @http("GET", "/console/board/jobs")
    @page("The board's job list alone (re-fetched on a live event).")
    def board_jobs(self, request):
        return pages_board.board_jobs(self._ctx(), request)

    @http("GET", "/console/board/jobs/<string:ticket_no>/assign")
    @page("The assignment form of a job, with its last decision's ranking.")
    def board_assign_form(self, request, ticket_no):
        return pages_board.assign_form(self._ctx(), request, ticket_no)

    @http("POST", "/console/board/jobs/<string:ticket_no>/assign")
    @page("Assign or reassign a job by hand (form: engineer_id, reason, csrf) through "
          "dispatch's API; shows the decision's ranking and explanation.")
    def board_assign(self, request, ticket_no):
        return pages_board.assign_submit(self._ctx(), request, ticket_no)

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


from . import pages_engineer  # the engineer's block above (imported last)
