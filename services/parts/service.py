"""The parts nameko service: turns messages and HTTP requests into handler calls."""
from __future__ import annotations

import os
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Literal

from nameko.dependency_providers import Config
from pydantic import BaseModel, ConfigDict, Field

from aftersales import metrics
from aftersales.errors import InvalidInput
from aftersales.messaging.entrypoint import consume_events
from aftersales.reference import branches
from aftersales.service import BaseService, Store, json_api, parse, query_time, report_response
from aftersales.web import http

from .adapters.repository import PartsUnitOfWork
from .domain import requests as rq
from .domain.returns import DECISIONS
from .service_layer import handlers


def gauges(session, settings):
    from .adapters.repository import LedgerRepository
    positions = LedgerRepository(session).all_positions()
    return [
        ("aftersales_parts_stock", "Parts on hand per branch warehouse, from the ledger.",
         ["branch", "sku"], [((w, sku), p.on_hand) for (w, sku), p in positions.items()]),
        ("aftersales_parts_available",
         "Parts available (on hand minus reserved) per branch warehouse, from the ledger.",
         ["branch", "sku"], [((w, sku), p.available) for (w, sku), p in positions.items()]),
    ]


def _limit(raw: str | None) -> int:
    try:
        limit = int(raw) if raw else 200
    except ValueError:
        limit = 0
    if not 1 <= limit <= 1000:
        raise InvalidInput([{"field": "limit", "message": "must be a whole number from 1 to 1000"}])
    return limit


# -- HTTP bodies ------------------------------------------------------------------------------
class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LineBody(_Body):
    sku: str = Field(min_length=1, max_length=40)
    quantity: int = Field(ge=1, le=10000)


class RequestBody(_Body):
    ticket_no: str = Field(min_length=1, max_length=40)
    branch: str | None = Field(default=None, max_length=20)
    lines: list[LineBody] = Field(min_length=1, max_length=100)
    note: str | None = Field(default=None, max_length=2000)


class NoteBody(_Body):
    note: str | None = Field(default=None, max_length=2000)


class ReasonBody(_Body):
    reason: str = Field(min_length=1, max_length=2000)


class MovementBody(_Body):
    branch: str | None = Field(default=None, max_length=20)
    kind: Literal["receive", "scrap", "stocktake"]
    sku: str = Field(min_length=1, max_length=40)
    quantity: int | None = Field(default=None, ge=1, le=1_000_000)
    counted: int | None = Field(default=None, ge=0, le=1_000_000)
    note: str | None = Field(default=None, max_length=2000)


class ReorderPointBody(_Body):
    branch: str | None = Field(default=None, max_length=20)
    sku: str = Field(min_length=1, max_length=40)
    reorder_point: int | None = Field(ge=0, le=1_000_000)


class ReturnBody(_Body):
    branch: str | None = Field(default=None, max_length=20)
    ticket_no: str | None = Field(default=None, max_length=40)
    sku: str = Field(min_length=1, max_length=40)
    serial_no: str | None = Field(default=None, max_length=100)
    model: str = Field(min_length=1, max_length=100, description="equipment model it came from")
    fault: str = Field(min_length=1, max_length=2000)


class InspectBody(_Body):
    decision: Literal[DECISIONS]
    note: str | None = Field(default=None, max_length=2000)


class PartsService(BaseService):
    name = "parts"
    store = Store(Path(__file__).parent / "migrations", PartsUnitOfWork, gauges=gauges)
    config = Config()

    def _branches(self) -> dict:
        known = branches(self.store.config.get("reference_dir"))
        for code in known:
            metrics.parts_backorders_total.labels(code)   # every branch's series from zero
        return known

    def _settings(self) -> handlers.Settings:
        raw = self.config.get("PARTS_AUTO_APPROVE_LIMIT",
                              os.environ.get("PARTS_AUTO_APPROVE_LIMIT", ""))
        try:
            limit = Decimal(str(raw)) if str(raw).strip() else rq.DEFAULT_AUTO_APPROVE_LIMIT
        except InvalidOperation:
            raise ValueError(f"PARTS_AUTO_APPROVE_LIMIT is not an amount: {raw!r}") from None
        days = int(self.config.get("PARTS_TRANSFER_DAYS",
                                   os.environ.get("PARTS_TRANSFER_DAYS", rq.DEFAULT_TRANSFER_DAYS)))
        return handlers.Settings(self._branches(), limit, days)

    @staticmethod
    def _count(outcome) -> dict | None:
        if outcome is None:
            return None
        for branch, n in outcome.backorders.items():
            metrics.parts_backorders_total.labels(branch).inc(n)
        return outcome.view

    # -- the bus -----------------------------------------------------------------------------
    @consume_events("aftersales.parts.events")
    def on_event(self, envelope):
        result = handlers.handle_event(self.store.uow(), envelope, self._settings())
        if isinstance(result, handlers.Outcome):
            self._count(result)

    # -- catalogue and stock -----------------------------------------------------------------
    @http("GET", "/api/v1/catalogue")
    @json_api("/api/v1/catalogue")
    def get_catalogue(self, request):
        self.store.principal(request)
        return 200, handlers.catalogue_view(self.store.uow(), request.args.get("model"))

    @http("GET", "/api/v1/stock")
    @json_api("/api/v1/stock")
    def get_stock(self, request):
        principal = self.store.principal(request)
        return 200, handlers.stock_view(self.store.uow(), principal, request.args.get("branch"),
                                        self._branches())

    @http("POST", "/api/v1/stock/movements")
    @json_api("/api/v1/stock/movements")
    def post_movement(self, request):
        principal = self.store.principal(request)
        body = parse(MovementBody, request)
        return 201, handlers.record_movement(
            self.store.uow(), principal, self._branches(), branch=body.branch, kind=body.kind,
            sku=body.sku, quantity=body.quantity, counted=body.counted, note=body.note)

    @http("PUT", "/api/v1/reorder-points")
    @json_api("/api/v1/reorder-points")
    def put_reorder_point(self, request):
        principal = self.store.principal(request)
        body = parse(ReorderPointBody, request)
        return 200, handlers.set_reorder_point(self.store.uow(), principal, self._branches(),
                                               branch=body.branch, sku=body.sku,
                                               reorder_point=body.reorder_point)

    @http("GET", "/api/v1/ledger")
    @json_api("/api/v1/ledger")
    def get_ledger(self, request):
        principal = self.store.principal(request)
        a = request.args
        return 200, handlers.ledger_view(self.store.uow(), principal, a.get("branch"),
                                         a.get("ticket_no"), self._branches(),
                                         _limit(a.get("limit")), a.get("sku"),
                                         a.get("request_id"))

    # -- parts requests -----------------------------------------------------------------------
    @http("POST", "/api/v1/parts-requests")
    @json_api("/api/v1/parts-requests")
    def post_request(self, request):
        principal = self.store.principal(request)
        principal.require_role("engineer", "dispatcher", "manager")
        body = parse(RequestBody, request)
        settings = self._settings()
        branch = handlers.branch_for(principal, body.branch, settings.branches)
        outcome = handlers.create_request(
            self.store.uow(), settings, ticket_no=body.ticket_no, branch=branch,
            lines=[(l.sku, l.quantity) for l in body.lines],
            requested_by=handlers.who(principal), note=body.note)
        return 201, self._count(outcome)

    @http("GET", "/api/v1/parts-requests")
    @json_api("/api/v1/parts-requests")
    def list_requests(self, request):
        principal = self.store.principal(request)
        a = request.args
        return 200, handlers.list_requests(self.store.uow(), principal, self._branches(),
                                           a.get("branch"), a.get("status"), a.get("ticket_no"),
                                           _limit(a.get("limit")))

    @http("GET", "/api/v1/parts-requests/<string:request_id>")
    @json_api("/api/v1/parts-requests/{request_id}")
    def get_request(self, request, request_id):
        principal = self.store.principal(request)
        return 200, handlers.get_request(self.store.uow(), principal, request_id)

    @http("POST", "/api/v1/parts-requests/<string:request_id>/approve")
    @json_api("/api/v1/parts-requests/{request_id}/approve")
    def approve(self, request, request_id):
        principal = self.store.principal(request)
        body = parse(NoteBody, request, empty_ok=True)
        return 200, self._count(handlers.approve_request(self.store.uow(), self._settings(),
                                                         principal, request_id, body.note))

    @http("POST", "/api/v1/parts-requests/<string:request_id>/reject")
    @json_api("/api/v1/parts-requests/{request_id}/reject")
    def reject(self, request, request_id):
        principal = self.store.principal(request)
        body = parse(ReasonBody, request)
        return 200, handlers.reject_request(self.store.uow(), principal, request_id,
                                            body.reason).view

    @http("POST", "/api/v1/parts-requests/<string:request_id>/ship")
    @json_api("/api/v1/parts-requests/{request_id}/ship")
    def ship(self, request, request_id):
        principal = self.store.principal(request)
        return 200, handlers.ship_request(self.store.uow(), principal, request_id).view

    @http("POST", "/api/v1/parts-requests/<string:request_id>/deliver")
    @json_api("/api/v1/parts-requests/{request_id}/deliver")
    def deliver(self, request, request_id):
        principal = self.store.principal(request)
        return 200, handlers.deliver_request(self.store.uow(), principal, request_id).view

    @http("POST", "/api/v1/parts-requests/<string:request_id>/return-unused")
    @json_api("/api/v1/parts-requests/{request_id}/return-unused")
    def return_unused(self, request, request_id):
        principal = self.store.principal(request)
        return 200, handlers.return_unused(self.store.uow(), principal, request_id).view

    @http("POST", "/api/v1/parts-requests/<string:request_id>/cancel")
    @json_api("/api/v1/parts-requests/{request_id}/cancel")
    def cancel(self, request, request_id):
        principal = self.store.principal(request)
        body = parse(ReasonBody, request)
        return 200, handlers.cancel_request(self.store.uow(), principal, request_id,
                                            body.reason).view

    # -- transfers and backorders -------------------------------------------------------------
    @http("GET", "/api/v1/transfers")
    @json_api("/api/v1/transfers")
    def list_transfers(self, request):
        principal = self.store.principal(request)
        a = request.args
        return 200, handlers.list_transfers(self.store.uow(), principal, self._branches(),
                                            a.get("branch"), a.get("status"),
                                            _limit(a.get("limit")))

    @http("POST", "/api/v1/transfers/<string:transfer_id>/receive")
    @json_api("/api/v1/transfers/{transfer_id}/receive")
    def receive_transfer(self, request, transfer_id):
        principal = self.store.principal(request)
        return 200, handlers.receive_transfer(self.store.uow(), principal, transfer_id).view

    @http("GET", "/api/v1/backorders")
    @json_api("/api/v1/backorders")
    def list_backorders(self, request):
        principal = self.store.principal(request)
        a = request.args
        return 200, handlers.list_backorders(self.store.uow(), principal, self._branches(),
                                             a.get("branch"), a.get("status"),
                                             _limit(a.get("limit")))

    @http("POST", "/api/v1/backorders/<string:backorder_id>/receive")
    @json_api("/api/v1/backorders/{backorder_id}/receive")
    def receive_backorder(self, request, backorder_id):
        principal = self.store.principal(request)
        return 200, handlers.receive_backorder(self.store.uow(), principal, backorder_id).view

    # -- returns of faulty parts (RMA) --------------------------------------------------------
    @http("POST", "/api/v1/returns")
    @json_api("/api/v1/returns")
    def post_return(self, request):
        principal = self.store.principal(request)
        body = parse(ReturnBody, request)
        return 201, handlers.open_return(self.store.uow(), principal, self._branches(),
                                         branch=body.branch, sku=body.sku,
                                         serial_no=body.serial_no, model_name=body.model,
                                         fault=body.fault, ticket_no=body.ticket_no)

    @http("GET", "/api/v1/returns")
    @json_api("/api/v1/returns")
    def list_returns(self, request):
        principal = self.store.principal(request)
        a = request.args
        return 200, handlers.list_returns(self.store.uow(), principal, self._branches(),
                                          a.get("branch"), a.get("status"),
                                          _limit(a.get("limit")))

    @http("GET", "/api/v1/returns/<string:return_id>")
    @json_api("/api/v1/returns/{return_id}")
    def get_return(self, request, return_id):
        principal = self.store.principal(request)
        return 200, handlers.get_return(self.store.uow(), principal, return_id)

    @http("POST", "/api/v1/returns/<string:return_id>/inspect")
    @json_api("/api/v1/returns/{return_id}/inspect")
    def inspect(self, request, return_id):
        principal = self.store.principal(request)
        body = parse(InspectBody, request)
        return 200, handlers.inspect_return(self.store.uow(), principal, return_id,
                                            body.decision, body.note)

    # -- reports ------------------------------------------------------------------------------
    @http("GET", "/api/v1/reports/defects")
    @json_api("/api/v1/reports/defects")
    def defects(self, request):
        principal = self.store.principal(request)
        a = request.args
        return 200, handlers.defects_report(self.store.uow(), principal, self._branches(),
                                            a.get("branch"), a.get("model"),
                                            query_time(a.get("since"), "since"),
                                            query_time(a.get("until"), "until"))

    @http("GET", "/api/v1/reports/ledger")
    def ledger_report(self, request):
        return report_response(
            self, request, "/api/v1/reports/ledger",
            lambda svc, req: handlers.ledger_report(
                svc.store.uow(), svc.store.principal(req), svc._branches(),
                req.args.get("branch"), req.args.get("month")),
            handlers.ledger_report_csv, lambda r: f"parts-ledger-{r['branch']}-{r['month']}.csv")
