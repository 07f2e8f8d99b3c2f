"""The intake nameko service: turns messages and HTTP requests into handler calls."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError

from aftersales import metrics
from aftersales.contracts.events import Category, Priority
from aftersales.errors import InvalidInput, NotFound
from aftersales.messaging.entrypoint import consume_events
from aftersales.reference import branches
from aftersales.service import BaseService, Store, json_api, parse, read_json
from aftersales.web import http

from .adapters.repository import IntakeUnitOfWork, TicketRepository
from .service_layer import handlers, views

OPEN_STATES = ("open", "linked", "escalated", "assigned", "accepted", "scheduled", "en_route",
               "on_site", "diagnosed", "quoted", "rework")


def gauges(session, settings):
    rows = TicketRepository(session).counts_by()
    samples = [((status, prio, branch), n) for status, prio, branch, n in rows if status in OPEN_STATES]
    return [("aftersales_tickets_open", "Open tickets by state.", ["state", "priority", "branch"],
             samples)]


# -- HTTP bodies of the agents' actions -------------------------------------------------------
class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ContactBody(_Body):
    channel: Literal["phone", "sms", "email", "wechat", "onsite"] = "phone"
    note: str | None = Field(default=None, max_length=2000)


class ReclassifyBody(_Body):
    priority: Priority | None = None
    category: Category | None = None
    reason: str = Field(min_length=1, max_length=1000)


class ResolveBody(_Body):
    resolution: str = Field(min_length=1, max_length=5000)


class ReasonBody(_Body):
    reason: str = Field(min_length=1, max_length=1000)


class IntakeService(BaseService):
    name = "intake"
    store = Store(Path(__file__).parent / "migrations", IntakeUnitOfWork, gauges=gauges)

    def _reference(self):
        ref_dir = self.store.config.get("reference_dir")
        known = branches(ref_dir)
        metrics.init_request_series(known)
        policies = {code: handlers.BranchPolicy.load(code, b, ref_dir) for code, b in known.items()}
        return known, policies

    def _receive(self, body: dict) -> handlers.Outcome:
        known, policies = self._reference()
        max_age = timedelta(days=float(self.store.config.get("received_max_age_days", 365)))
        try:
            outcome = self._receive_once_raced(body, known, policies, max_age)
        except (InvalidInput, handlers.RequestIdTaken):
            b, ch = body.get("branch"), body.get("channel")
            if isinstance(b, str) and b in known and isinstance(ch, str) and ch in metrics.CHANNELS:
                metrics.requests_total.labels(b, ch, "rejected").inc()
            raise
        metrics.requests_total.labels(outcome.branch, outcome.channel, outcome.outcome).inc()
        return outcome

    def _receive_once_raced(self, body, known, policies, max_age, tries=3) -> handlers.Outcome:
        """Two first deliveries of one request, or two tickets numbered at the same moment, race
        on a unique key (PostgreSQL): the loser's transaction is rolled back and it tries again,
        finding the winner's ticket (a duplicate) or taking the next number. Never a 500."""
        for attempt in range(1, tries + 1):
            try:
                return handlers.receive_request(self.store.uow(), body, known, policies,
                                                max_age=max_age)
            except IntegrityError:
                if attempt == tries:
                    raise

    # -- the bus -----------------------------------------------------------------------------
    @consume_events("aftersales.intake.phone_center")
    def on_repair_requested(self, body):
        self._receive(body)

    @consume_events("aftersales.intake.events")
    def on_workflow_event(self, envelope):
        handlers.record_event(self.store.uow(), envelope)

    # -- HTTP --------------------------------------------------------------------------------
    @http("POST", "/api/v1/tickets")
    @json_api("/api/v1/tickets")
    def post_ticket(self, request):
        principal = self.store.principal(request)
        principal.require_role("agent", "integration", "manager")
        body = read_json(request, strict=False)   # fields beyond the bounds: named by intake
        principal.require_branch(body.get("branch"))
        try:
            outcome = self._receive(body)
        except handlers.RequestIdTaken as exc:
            return 409, {"error": str(exc), "errors": exc.errors}
        return (201 if outcome.outcome == "opened" else 200,
                {"ticket_no": outcome.ticket_no, "outcome": outcome.outcome,
                 "priority": outcome.priority, "linked_to": outcome.linked_to})

    @http("GET", "/api/v1/tickets")
    @json_api("/api/v1/tickets")
    def list_tickets(self, request):
        principal = self.store.principal(request)
        return 200, views.search(self.store.uow(), principal, dict(request.args))

    @http("GET", "/api/v1/tickets/<string:ticket_no>")
    @json_api("/api/v1/tickets/{ticket_no}")
    def get_ticket(self, request, ticket_no):
        principal = self.store.principal(request)
        view = views.ticket_view(self.store.uow(), ticket_no)
        if view is None or not principal.can_access(view["branch"]):
            raise NotFound(f"no ticket {ticket_no}")
        return 200, view

    def _agent(self, request):
        principal = self.store.principal(request)
        principal.require_role("agent", "manager", "dispatcher")
        return principal

    @http("POST", "/api/v1/tickets/<string:ticket_no>/contact")
    @json_api("/api/v1/tickets/{ticket_no}/contact")
    def contact(self, request, ticket_no):
        principal = self._agent(request)
        body = parse(ContactBody, request)
        return 200, handlers.record_contact(self.store.uow(), ticket_no, principal,
                                            body.channel, body.note)

    @http("POST", "/api/v1/tickets/<string:ticket_no>/classification")
    @json_api("/api/v1/tickets/{ticket_no}/classification")
    def reclassify(self, request, ticket_no):
        principal = self._agent(request)
        body = parse(ReclassifyBody, request)
        if body.priority is None and body.category is None:
            raise InvalidInput([{"field": "priority", "message": "give priority and/or category"}])
        return 200, handlers.reclassify(self.store.uow(), ticket_no, principal,
                                        priority=body.priority, category=body.category,
                                        reason=body.reason)

    @http("POST", "/api/v1/tickets/<string:ticket_no>/resolve")
    @json_api("/api/v1/tickets/{ticket_no}/resolve")
    def resolve(self, request, ticket_no):
        principal = self._agent(request)
        body = parse(ResolveBody, request)
        return 200, handlers.resolve_remotely(self.store.uow(), ticket_no, principal, body.resolution)

    @http("POST", "/api/v1/tickets/<string:ticket_no>/cancel")
    @json_api("/api/v1/tickets/{ticket_no}/cancel")
    def cancel(self, request, ticket_no):
        principal = self._agent(request)
        body = parse(ReasonBody, request)
        return 200, handlers.cancel(self.store.uow(), ticket_no, principal, body.reason)

    @http("POST", "/api/v1/tickets/<string:ticket_no>/split")
    @json_api("/api/v1/tickets/{ticket_no}/split")
    def split(self, request, ticket_no):
        principal = self._agent(request)
        body = parse(ReasonBody, request)
        return 200, handlers.split(self.store.uow(), ticket_no, principal, body.reason)
