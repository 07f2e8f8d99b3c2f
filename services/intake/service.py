"""The intake nameko service: turns messages and HTTP requests into handler calls."""
from __future__ import annotations

from pathlib import Path

from nameko.web.handlers import http

from aftersales import metrics
from aftersales.errors import InvalidInput, NotFound
from aftersales.messaging.entrypoint import consume_events
from aftersales.reference import branches
from aftersales.service import BaseService, Store, json_api, read_json

from .adapters.repository import IntakeUnitOfWork
from .service_layer import handlers

OPEN_STATES = ("open", "escalated", "assigned", "accepted", "on_site")


def gauges(session, settings):
    from .adapters.repository import TicketRepository
    rows = TicketRepository(session).counts_by()
    samples = [((status, prio, branch), n) for status, prio, branch, n in rows if status in OPEN_STATES]
    return [("aftersales_tickets_open", "Open tickets by state.", ["state", "priority", "branch"],
             samples)]


def _count(outcome: handlers.Outcome) -> None:
    if outcome.branch and outcome.channel:
        metrics.requests_total.labels(outcome.branch, outcome.channel, outcome.outcome).inc()


class IntakeService(BaseService):
    name = "intake"
    store = Store(Path(__file__).parent / "migrations", IntakeUnitOfWork, gauges=gauges)

    def _branches(self):
        b = branches(self.store.config.get("reference_dir"))
        metrics.init_request_series(b)
        return b

    def _receive(self, body: dict) -> handlers.Outcome:
        try:
            outcome = handlers.receive_request(self.store.uow(), body, self._branches())
        except InvalidInput:
            b, ch = body.get("branch"), body.get("channel")
            if isinstance(b, str) and isinstance(ch, str) and b in self._branches() \
                    and ch in metrics.CHANNELS:
                metrics.requests_total.labels(b, ch, "rejected").inc()
            raise
        _count(outcome)
        return outcome

    @consume_events("aftersales.intake.phone_center")
    def on_repair_requested(self, body):
        self._receive(body)

    @consume_events("aftersales.intake.events")
    def on_workflow_event(self, envelope):
        handlers.record_event(self.store.uow(), envelope)

    @http("POST", "/api/v1/tickets")
    @json_api("/api/v1/tickets")
    def post_ticket(self, request):
        principal = self.store.principal(request)
        principal.require_role("agent", "integration", "manager")
        body = read_json(request)
        principal.require_branch(body.get("branch"))
        outcome = self._receive(body)
        return (201 if outcome.outcome == "opened" else 200,
                {"ticket_no": outcome.ticket_no, "outcome": outcome.outcome,
                 "priority": outcome.priority})

    @http("GET", "/api/v1/tickets/<string:ticket_no>")
    @json_api("/api/v1/tickets/{ticket_no}")
    def get_ticket(self, request, ticket_no):
        principal = self.store.principal(request)
        view = handlers.ticket_view(self.store.uow(), ticket_no)
        if view is None or not principal.can_access(view["branch"]):
            raise NotFound(f"no ticket {ticket_no}")
        return 200, view
