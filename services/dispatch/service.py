"""The dispatch nameko service: turns messages and HTTP requests into handler calls."""
from __future__ import annotations

from pathlib import Path

from nameko.web.handlers import http

from aftersales.messaging.entrypoint import consume_events
from aftersales.reference import branches
from aftersales.service import BaseService, Store, json_api, read_json

from .adapters.repository import DispatchUnitOfWork
from .domain.model import OPEN_STATES
from .service_layer import handlers

PRIORITIES = ("A", "B", "C")


def gauges(session, settings: dict) -> list[tuple]:
    """Open jobs by state, priority and branch; every known combination, zeros included."""
    from .adapters.repository import JobRepository
    counts = {(s, p, b): 0 for b in branches(settings.get("reference_dir"))
              for s in OPEN_STATES for p in PRIORITIES}
    for status, prio, branch, n in JobRepository(session).counts_by():
        if status in OPEN_STATES:
            counts[(status, prio, branch)] = n
    return [("aftersales_dispatch_jobs_open", "Open dispatch jobs by state.",
             ["state", "priority", "branch"], sorted(counts.items()))]


def _body(request) -> dict:
    """The JSON object sent, or ``{}`` when nothing was sent (accept and check-in)."""
    return read_json(request) if request.get_data() else {}


class DispatchService(BaseService):
    name = "dispatch"
    store = Store(Path(__file__).parent / "migrations", DispatchUnitOfWork, gauges=gauges)

    @consume_events("aftersales.dispatch.events")
    def on_event(self, envelope):
        handlers.handle_event(self.store.uow(), envelope)

    def _act(self, request, ticket_no: str, action: str):
        principal = self.store.principal(request)
        return 200, handlers.act(self.store.uow(), principal, ticket_no, action, _body(request))

    @http("POST", "/api/v1/jobs/<string:ticket_no>/accept")
    @json_api("/api/v1/jobs/{ticket_no}/accept")
    def accept_job(self, request, ticket_no):
        return self._act(request, ticket_no, "accept")

    @http("POST", "/api/v1/jobs/<string:ticket_no>/check-in")
    @json_api("/api/v1/jobs/{ticket_no}/check-in")
    def check_in(self, request, ticket_no):
        return self._act(request, ticket_no, "check_in")

    @http("POST", "/api/v1/jobs/<string:ticket_no>/complete")
    @json_api("/api/v1/jobs/{ticket_no}/complete")
    def complete_job(self, request, ticket_no):
        return self._act(request, ticket_no, "complete")

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
