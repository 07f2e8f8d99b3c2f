"""The intake nameko service: entrypoints only. A consumed message or an HTTP request becomes a
command (or an event) for the bus (:mod:`.bootstrap`); reads go to the views."""
from __future__ import annotations

from pathlib import Path

from aftersales.messaging.entrypoint import consume_events
from aftersales.service import BaseService, Bus, Store, json_api, read_json
from aftersales.web import http

from . import bootstrap
from .adapters.repository import IntakeUnitOfWork
from .bodies import (ContactBody, ReasonBody, ReclassifyBody, RepairRequestBody, ResolveBody,
                     TicketQuery)
from .responses import (ContactRecorded, Reclassified, TicketAccepted, TicketList, TicketStatus,
                        TicketView)
from .service_layer import commands, receiving, views
from .service_layer.receiving import RequestIdTaken


class IntakeService(BaseService):
    name = "intake"
    store = Store(Path(__file__).parent / "migrations", IntakeUnitOfWork, gauges=views.gauges)
    bus = Bus(bootstrap.build)

    def _receive(self, body: dict) -> receiving.Outcome:
        return receiving.settle(self.bus.handle(commands.ReceiveRequest(body)))

    # -- the bus -----------------------------------------------------------------------------
    @consume_events("aftersales.intake.phone_center")
    def on_repair_requested(self, body):
        self._receive(body)

    @consume_events("aftersales.intake.events", batch=16)
    def on_workflow_event(self, envelopes):
        self.bus.handle_events(envelopes)

    # -- HTTP --------------------------------------------------------------------------------
    @http("POST", "/api/v1/tickets")
    @json_api("/api/v1/tickets", body=RepairRequestBody, response=TicketAccepted, status=201, also=(200,),
              errors=(409,))
    def post_ticket(self, request):
        """Open a ticket for a repair request (201; a repeat of its source and request_id: 200).

        A request for an asset that already has an open ticket is linked to it. A refused
        request is answered with ``request_rejected`` too; 409: its request_id was used by
        another branch."""
        principal = self.store.principal(request)
        principal.require_role("agent", "integration", "manager")
        body = read_json(request, strict=False)   # fields beyond the bounds: named by intake
        principal.require_branch(body.get("branch"))
        try:
            outcome = self._receive(body)
        except RequestIdTaken as exc:
            return 409, {"error": str(exc), "errors": exc.errors}
        return (201 if outcome.outcome == "opened" else 200,
                {"ticket_no": outcome.ticket_no, "outcome": outcome.outcome,
                 "priority": outcome.priority, "linked_to": outcome.linked_to})

    @http("GET", "/api/v1/tickets")
    @json_api("/api/v1/tickets", query=TicketQuery, response=TicketList, errors=(404,))
    def list_tickets(self, request):
        """List and search tickets (newest first), the key's branch only unless it is HQ's.

        404: a branch the key may not see."""
        principal = self.store.principal(request)
        return 200, views.search(self.store.uow(), principal, TicketQuery.read(request.args))

    @http("GET", "/api/v1/tickets/<string:ticket_no>")
    @json_api("/api/v1/tickets/{ticket_no}", response=TicketView)
    def get_ticket(self, request, ticket_no):
        """A ticket, its status and its timeline."""
        principal = self.store.principal(request)
        return 200, views.ticket_view(self.store.uow(), ticket_no, principal)

    # -- the service desk ----------------------------------------------------------------------
    def _desk(self, request, ticket_no, body_model, command):
        """An agent's action: the role first, then the body (422), then the command (404, 409);
        the body's fields are the command's."""
        principal = self.store.principal(request)
        principal.require_role("agent", "manager", "dispatcher")
        body = body_model.read(request)
        return 200, self.bus.handle(command(ticket_no, principal, **body.model_dump()))

    @http("POST", "/api/v1/tickets/<string:ticket_no>/contact")
    @json_api("/api/v1/tickets/{ticket_no}/contact", body=ContactBody, response=ContactRecorded,
              errors=(409,))
    def contact(self, request, ticket_no):
        """Record a contact with the customer (409: the ticket is cancelled)."""
        return self._desk(request, ticket_no, ContactBody, commands.RecordContact)

    @http("POST", "/api/v1/tickets/<string:ticket_no>/classification")
    @json_api("/api/v1/tickets/{ticket_no}/classification", body=ReclassifyBody,
              response=Reclassified, errors=(409,))
    def reclassify(self, request, ticket_no):
        """Change the ticket's priority and/or category (409: final, or nothing changes)."""
        return self._desk(request, ticket_no, ReclassifyBody, commands.Reclassify)

    @http("POST", "/api/v1/tickets/<string:ticket_no>/resolve")
    @json_api("/api/v1/tickets/{ticket_no}/resolve", body=ResolveBody, response=TicketStatus,
              errors=(409,))
    def resolve(self, request, ticket_no):
        """Resolve the ticket remotely (409: someone has accepted it already)."""
        return self._desk(request, ticket_no, ResolveBody, commands.ResolveRemotely)

    @http("POST", "/api/v1/tickets/<string:ticket_no>/cancel")
    @json_api("/api/v1/tickets/{ticket_no}/cancel", body=ReasonBody, response=TicketStatus,
              errors=(409,))
    def cancel(self, request, ticket_no):
        """Cancel the ticket (409: it is final already)."""
        return self._desk(request, ticket_no, ReasonBody, commands.Cancel)

    @http("POST", "/api/v1/tickets/<string:ticket_no>/split")
    @json_api("/api/v1/tickets/{ticket_no}/split", body=ReasonBody, response=TicketStatus,
              errors=(409,))
    def split(self, request, ticket_no):
        """Split a linked request off: it gets its own dispatch (409: it is not linked)."""
        return self._desk(request, ticket_no, ReasonBody, commands.Split)
