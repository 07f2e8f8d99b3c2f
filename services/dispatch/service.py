"""The dispatch nameko service: entrypoints only. A consumed event goes to the bus
(``bus.handle_event``); an HTTP request becomes a command (``bus.handle``) or reads a view;
the SLA timer's duties are commands too (see ``bootstrap.py``)."""
from __future__ import annotations

import logging
from pathlib import Path

from nameko.extensions import DependencyProvider

from aftersales import metrics
from aftersales.messaging.entrypoint import consume_events
from aftersales.reference import branches
from aftersales.service import BaseService, Bus, Store, json_api, read_json
from aftersales.timer import configured_timer
from aftersales.web import http

from . import bootstrap
from .adapters.repository import DispatchUnitOfWork
from .service_layer import commands, views
from .service_layer.gauges import gauges

log = logging.getLogger(__name__)


class SlaSeries(DependencyProvider):
    """Every SLA counter and histogram series (stage × priority × branch) at zero as the
    service starts, so ``rate()`` works from the first scrape."""

    def setup(self):
        metrics.init_sla_series(branches(self.container.config.get("AFTERSALES", {})
                                         .get("reference_dir")))


def _body(request) -> dict:
    """The JSON object sent, or ``{}`` when nothing was sent (accept and check-in)."""
    return read_json(request) if request.get_data() else {}


TIMER_DUTIES = (commands.TimeOutAcceptances, commands.RemindMissingReports,
                commands.ForgetEarlyEvents)


class DispatchService(BaseService):
    name = "dispatch"
    store = Store(Path(__file__).parent / "migrations", DispatchUnitOfWork, gauges=gauges)
    bus = Bus(bootstrap.build)
    sla_series = SlaSeries()

    # -- messages and the clock -----------------------------------------------------------
    @consume_events("aftersales.dispatch.events")
    def on_event(self, envelope):
        self.bus.handle_event(envelope)

    @configured_timer("sla_timer_interval", 1.0)
    def sla_timer(self):
        """Raise due SLA at-risk and breaches (from the database: a restart misses none),
        reassign jobs not accepted in time, remind missing progress reports."""
        try:
            scan = commands.RaiseDueSla()
            while self.bus.handle(scan) >= scan.limit:
                pass            # a backlog (after downtime): drain it in batches
            for duty in TIMER_DUTIES:
                self.bus.handle(duty())
        except Exception:
            log.exception("SLA timer tick failed; the next tick retries")

    # -- the job -------------------------------------------------------------------------
    def _command(self, request, command, ticket_no: str):
        principal = self.store.principal(request)
        return 200, self.bus.handle(command(principal, ticket_no, _body(request)))

    def _view(self, request, view, *args):
        principal = self.store.principal(request)
        return 200, view(self.store.uow(), principal, *args)

    @http("POST", "/api/v1/jobs/<string:ticket_no>/accept")
    @json_api("/api/v1/jobs/{ticket_no}/accept")
    def accept_job(self, request, ticket_no):
        return self._command(request, commands.AcceptJob, ticket_no)

    @http("POST", "/api/v1/jobs/<string:ticket_no>/decline")
    @json_api("/api/v1/jobs/{ticket_no}/decline")
    def decline_job(self, request, ticket_no):
        return self._command(request, commands.DeclineJob, ticket_no)

    @http("POST", "/api/v1/jobs/<string:ticket_no>/appointment")
    @json_api("/api/v1/jobs/{ticket_no}/appointment")
    def set_appointment(self, request, ticket_no):
        return self._command(request, commands.SetAppointment, ticket_no)

    @http("POST", "/api/v1/jobs/<string:ticket_no>/en-route")
    @json_api("/api/v1/jobs/{ticket_no}/en-route")
    def en_route(self, request, ticket_no):
        return self._command(request, commands.SetOut, ticket_no)

    @http("POST", "/api/v1/jobs/<string:ticket_no>/check-in")
    @json_api("/api/v1/jobs/{ticket_no}/check-in")
    def check_in(self, request, ticket_no):
        return self._command(request, commands.CheckIn, ticket_no)

    @http("POST", "/api/v1/jobs/<string:ticket_no>/diagnosis")
    @json_api("/api/v1/jobs/{ticket_no}/diagnosis")
    def diagnose(self, request, ticket_no):
        return self._command(request, commands.Diagnose, ticket_no)

    @http("POST", "/api/v1/jobs/<string:ticket_no>/quote")
    @json_api("/api/v1/jobs/{ticket_no}/quote")
    def quote(self, request, ticket_no):
        return self._command(request, commands.IssueQuote, ticket_no)

    @http("POST", "/api/v1/jobs/<string:ticket_no>/quote/decision")
    @json_api("/api/v1/jobs/{ticket_no}/quote/decision")
    def quote_decision(self, request, ticket_no):
        return self._command(request, commands.DecideQuote, ticket_no)

    @http("POST", "/api/v1/jobs/<string:ticket_no>/parts-requests")
    @json_api("/api/v1/jobs/{ticket_no}/parts-requests")
    def request_parts(self, request, ticket_no):
        return self._command(request, commands.RequestParts, ticket_no)

    @http("POST", "/api/v1/jobs/<string:ticket_no>/reports")
    @json_api("/api/v1/jobs/{ticket_no}/reports")
    def progress_report(self, request, ticket_no):
        return self._command(request, commands.ReportProgress, ticket_no)

    @http("POST", "/api/v1/jobs/<string:ticket_no>/complete")
    @json_api("/api/v1/jobs/{ticket_no}/complete")
    def complete_job(self, request, ticket_no):
        return self._command(request, commands.CompleteJob, ticket_no)

    @http("POST", "/api/v1/jobs/<string:ticket_no>/sign-off")
    @json_api("/api/v1/jobs/{ticket_no}/sign-off")
    def sign_off(self, request, ticket_no):
        return self._command(request, commands.SignOff, ticket_no)

    @http("POST", "/api/v1/jobs/<string:ticket_no>/assign")
    @json_api("/api/v1/jobs/{ticket_no}/assign")
    def assign(self, request, ticket_no):
        return self._command(request, commands.AssignJob, ticket_no)

    @http("POST", "/api/v1/jobs/<string:ticket_no>/waiting-on-customer")
    @json_api("/api/v1/jobs/{ticket_no}/waiting-on-customer")
    def pause(self, request, ticket_no):
        return self._command(request, commands.WaitOnCustomer, ticket_no)

    @http("POST", "/api/v1/jobs/<string:ticket_no>/resume")
    @json_api("/api/v1/jobs/{ticket_no}/resume")
    def resume(self, request, ticket_no):
        principal = self.store.principal(request)
        return 200, self.bus.handle(commands.Resume(principal, ticket_no))

    @http("GET", "/api/v1/jobs/<string:ticket_no>/sla")
    @json_api("/api/v1/jobs/{ticket_no}/sla")
    def get_sla(self, request, ticket_no):
        return self._view(request, views.get_sla, ticket_no)

    @http("GET", "/api/v1/jobs/<string:ticket_no>")
    @json_api("/api/v1/jobs/{ticket_no}")
    def get_job(self, request, ticket_no):
        return self._view(request, views.get_job, ticket_no)

    @http("GET", "/api/v1/jobs")
    @json_api("/api/v1/jobs")
    def list_jobs(self, request):
        return self._view(request, views.list_jobs, request.args)

    @http("GET", "/api/v1/board")
    @json_api("/api/v1/board")
    def board(self, request):
        return self._view(request, views.board, request.args)

    # -- the roster ------------------------------------------------------------------------
    @http("GET", "/api/v1/engineers")
    @json_api("/api/v1/engineers")
    def list_engineers(self, request):
        return self._view(request, views.list_engineers, request.args)

    @http("PUT", "/api/v1/engineers/<string:engineer_id>")
    @json_api("/api/v1/engineers/{engineer_id}")
    def put_engineer(self, request, engineer_id):
        principal = self.store.principal(request)
        return self.bus.handle(commands.PutEngineer(principal, engineer_id, read_json(request)))

    @http("POST", "/api/v1/engineers/<string:engineer_id>/leave")
    @json_api("/api/v1/engineers/{engineer_id}/leave")
    def add_leave(self, request, engineer_id):
        principal = self.store.principal(request)
        return 200, self.bus.handle(commands.AddLeave(principal, engineer_id, read_json(request)))
