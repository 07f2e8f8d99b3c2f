"""The dispatch nameko service: turns messages, timer ticks and HTTP requests into handler
calls."""
from __future__ import annotations

import logging
from pathlib import Path

from nameko.extensions import DependencyProvider
from nameko.timer import Timer

from aftersales import metrics
from aftersales.messaging.entrypoint import consume_events
from aftersales.reference import branches
from aftersales.service import BaseService, Store, json_api, read_json
from aftersales.web import http

from .adapters.policies import PolicyBook
from .adapters.repository import DispatchUnitOfWork
from .domain.model import OPEN_STATES
from .service_layer import handlers, roster, sla

log = logging.getLogger(__name__)
PRIORITIES = ("A", "B", "C")


def gauges(session, settings: dict) -> list[tuple]:
    """Open jobs by state, priority and branch, and the SLA gauges (at risk, overdue); every
    known combination, zeros included."""
    from .adapters.repository import JobRepository
    codes = branches(settings.get("reference_dir"))
    counts = {(s, p, b): 0 for b in codes for s in OPEN_STATES for p in PRIORITIES}
    for status, prio, branch, n in JobRepository(session).counts_by():
        if status in OPEN_STATES:
            counts[(status, prio, branch)] = n
    return [("aftersales_dispatch_jobs_open", "Open dispatch jobs by state.",
             ["state", "priority", "branch"], sorted(counts.items()))] + \
        sla.gauges(session, settings, codes)


class ConfiguredTimer(Timer):
    """nameko's ``@timer`` with the interval read from the service's configuration
    (``AFTERSALES[key]``) at setup, so tests can run the SLA scan every fraction of a second."""

    def __init__(self, key: str, default: float, **kwargs):
        super().__init__(interval=default, **kwargs)
        self.key = key

    def setup(self):
        self.interval = float(self.container.config.get("AFTERSALES", {}).get(self.key, self.interval))
        super().setup()


configured_timer = ConfiguredTimer.decorator


class SlaSeries(DependencyProvider):
    """Every SLA counter and histogram series (stage × priority × branch) at zero as the
    service starts, so ``rate()`` works from the first scrape."""

    def setup(self):
        metrics.init_sla_series(branches(self.container.config.get("AFTERSALES", {})
                                         .get("reference_dir")))


def _body(request) -> dict:
    """The JSON object sent, or ``{}`` when nothing was sent (accept and check-in)."""
    return read_json(request) if request.get_data() else {}


class DispatchService(BaseService):
    name = "dispatch"
    store = Store(Path(__file__).parent / "migrations", DispatchUnitOfWork, gauges=gauges)
    sla_series = SlaSeries()

    def _policies(self) -> PolicyBook:
        return PolicyBook(self.store.config)

    # -- messages and the clock -----------------------------------------------------------
    @consume_events("aftersales.dispatch.events")
    def on_event(self, envelope):
        handlers.handle_event(self.store.uow(), envelope, self._policies())

    @configured_timer("sla_timer_interval", 1.0)
    def sla_timer(self):
        """Raise due SLA at-risk and breaches (from the database: a restart misses none),
        reassign jobs not accepted in time, remind missing progress reports."""
        policies = self._policies()
        try:
            while sla.tick(self.store.uow(), policies) >= 200:
                pass            # a backlog (after downtime): drain it in batches
            handlers.tick_jobs(self.store.uow(), policies, self.store.config)
        except Exception:
            log.exception("SLA timer tick failed; the next tick retries")

    # -- the job -------------------------------------------------------------------------
    def _act(self, request, ticket_no: str, action: str):
        principal = self.store.principal(request)
        return 200, handlers.act(self.store.uow(), principal, ticket_no, action, _body(request),
                                 self._policies())

    @http("POST", "/api/v1/jobs/<string:ticket_no>/accept")
    @json_api("/api/v1/jobs/{ticket_no}/accept")
    def accept_job(self, request, ticket_no):
        return self._act(request, ticket_no, "accept")

    @http("POST", "/api/v1/jobs/<string:ticket_no>/decline")
    @json_api("/api/v1/jobs/{ticket_no}/decline")
    def decline_job(self, request, ticket_no):
        return self._act(request, ticket_no, "decline")

    @http("POST", "/api/v1/jobs/<string:ticket_no>/appointment")
    @json_api("/api/v1/jobs/{ticket_no}/appointment")
    def set_appointment(self, request, ticket_no):
        return self._act(request, ticket_no, "schedule")

    @http("POST", "/api/v1/jobs/<string:ticket_no>/en-route")
    @json_api("/api/v1/jobs/{ticket_no}/en-route")
    def en_route(self, request, ticket_no):
        return self._act(request, ticket_no, "depart")

    @http("POST", "/api/v1/jobs/<string:ticket_no>/check-in")
    @json_api("/api/v1/jobs/{ticket_no}/check-in")
    def check_in(self, request, ticket_no):
        return self._act(request, ticket_no, "check_in")

    @http("POST", "/api/v1/jobs/<string:ticket_no>/diagnosis")
    @json_api("/api/v1/jobs/{ticket_no}/diagnosis")
    def diagnose(self, request, ticket_no):
        return self._act(request, ticket_no, "diagnose")

    @http("POST", "/api/v1/jobs/<string:ticket_no>/quote")
    @json_api("/api/v1/jobs/{ticket_no}/quote")
    def quote(self, request, ticket_no):
        return self._act(request, ticket_no, "quote")

    @http("POST", "/api/v1/jobs/<string:ticket_no>/quote/decision")
    @json_api("/api/v1/jobs/{ticket_no}/quote/decision")
    def quote_decision(self, request, ticket_no):
        return self._act(request, ticket_no, "quote_decision")

    @http("POST", "/api/v1/jobs/<string:ticket_no>/parts-requests")
    @json_api("/api/v1/jobs/{ticket_no}/parts-requests")
    def request_parts(self, request, ticket_no):
        return self._act(request, ticket_no, "parts")

    @http("POST", "/api/v1/jobs/<string:ticket_no>/reports")
    @json_api("/api/v1/jobs/{ticket_no}/reports")
    def progress_report(self, request, ticket_no):
        return self._act(request, ticket_no, "report")

    @http("POST", "/api/v1/jobs/<string:ticket_no>/complete")
    @json_api("/api/v1/jobs/{ticket_no}/complete")
    def complete_job(self, request, ticket_no):
        return self._act(request, ticket_no, "complete")

    @http("POST", "/api/v1/jobs/<string:ticket_no>/sign-off")
    @json_api("/api/v1/jobs/{ticket_no}/sign-off")
    def sign_off(self, request, ticket_no):
        return self._act(request, ticket_no, "sign_off")

    @http("POST", "/api/v1/jobs/<string:ticket_no>/assign")
    @json_api("/api/v1/jobs/{ticket_no}/assign")
    def assign(self, request, ticket_no):
        principal = self.store.principal(request)
        return 200, handlers.assign(self.store.uow(), principal, ticket_no, _body(request),
                                    self._policies())

    @http("POST", "/api/v1/jobs/<string:ticket_no>/waiting-on-customer")
    @json_api("/api/v1/jobs/{ticket_no}/waiting-on-customer")
    def pause(self, request, ticket_no):
        principal = self.store.principal(request)
        return 200, sla.pause(self.store.uow(), self._policies(), principal, ticket_no,
                              _body(request))

    @http("POST", "/api/v1/jobs/<string:ticket_no>/resume")
    @json_api("/api/v1/jobs/{ticket_no}/resume")
    def resume(self, request, ticket_no):
        principal = self.store.principal(request)
        return 200, sla.resume(self.store.uow(), self._policies(), principal, ticket_no)

    @http("GET", "/api/v1/jobs/<string:ticket_no>/sla")
    @json_api("/api/v1/jobs/{ticket_no}/sla")
    def get_sla(self, request, ticket_no):
        principal = self.store.principal(request)
        return 200, handlers.get_sla(self.store.uow(), principal, ticket_no)

    @http("GET", "/api/v1/jobs/<string:ticket_no>")
    @json_api("/api/v1/jobs/{ticket_no}")
    def get_job(self, request, ticket_no):
        principal = self.store.principal(request)
        return 200, handlers.get_job(self.store.uow(), principal, ticket_no)

    @http("GET", "/api/v1/jobs")
    @json_api("/api/v1/jobs")
    def list_jobs(self, request):
        principal = self.store.principal(request)
        return 200, handlers.list_jobs(self.store.uow(), principal, request.args)

    @http("GET", "/api/v1/board")
    @json_api("/api/v1/board")
    def board(self, request):
        principal = self.store.principal(request)
        return 200, handlers.board(self.store.uow(), principal, request.args)

    # -- the roster ------------------------------------------------------------------------
    @http("GET", "/api/v1/engineers")
    @json_api("/api/v1/engineers")
    def list_engineers(self, request):
        principal = self.store.principal(request)
        return 200, roster.list_engineers(self.store.uow(), principal, request.args)

    @http("PUT", "/api/v1/engineers/<string:engineer_id>")
    @json_api("/api/v1/engineers/{engineer_id}")
    def put_engineer(self, request, engineer_id):
        principal = self.store.principal(request)
        return roster.put_engineer(self.store.uow(), principal, engineer_id, read_json(request))

    @http("POST", "/api/v1/engineers/<string:engineer_id>/leave")
    @json_api("/api/v1/engineers/{engineer_id}/leave")
    def add_leave(self, request, engineer_id):
        principal = self.store.principal(request)
        return 200, roster.add_leave(self.store.uow(), principal, engineer_id, read_json(request))
