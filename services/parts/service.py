"""The parts nameko service: entrypoints only. An HTTP command goes principal -> body
(``bodies.py``) -> command -> ``self.bus.handle``; a consumed event to
``self.bus.handle_event``; reads to the views."""
from __future__ import annotations

from pathlib import Path

from aftersales import metrics
from aftersales.errors import InvalidInput
from aftersales.messaging.entrypoint import consume_events
from aftersales.service import (BaseService, Bus, Store, json_api, parse, query_time,
                                report_response)
from aftersales.web import http

from . import bootstrap
from .adapters.repository import LedgerRepository, PartsUnitOfWork
from .bodies import (InspectBody, MovementBody, NoteBody, ReasonBody, ReorderPointBody,
                     RequestBody, ReturnBody)
from .service_layer import commands as cmd, reports, views
from .service_layer.common import Outcome


def gauges(session, settings):
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


def _count(outcome) -> dict | None:
    """The view of a use case's outcome; the backorders it raised counted (committed)."""
    if outcome is None:
        return None
    for branch, n in outcome.backorders.items():
        metrics.parts_backorders_total.labels(branch).inc(n)
    return outcome.view


class PartsService(BaseService):
    name = "parts"
    store = Store(Path(__file__).parent / "migrations", PartsUnitOfWork, gauges=gauges)
    bus = Bus(bootstrap.build)

    def _branches(self) -> dict:
        return self.bus.dependencies["branches"]

    def _do(self, command) -> dict | None:
        return _count(self.bus.handle(command))

    # -- the bus -----------------------------------------------------------------------------
    @consume_events("aftersales.parts.events")
    def on_event(self, envelope):
        result = self.bus.handle_event(envelope)
        if isinstance(result, Outcome):
            _count(result)

    # -- catalogue and stock -----------------------------------------------------------------
    @http("GET", "/api/v1/catalogue")
    @json_api("/api/v1/catalogue")
    def get_catalogue(self, request):
        self.store.principal(request)
        return 200, views.catalogue_view(self.store.uow(), request.args.get("model"))

    @http("GET", "/api/v1/stock")
    @json_api("/api/v1/stock")
    def get_stock(self, request):
        principal = self.store.principal(request)
        return 200, views.stock_view(self.store.uow(), principal, request.args.get("branch"),
                                     self._branches())

    @http("POST", "/api/v1/stock/movements")
    @json_api("/api/v1/stock/movements")
    def post_movement(self, request):
        principal = self.store.principal(request)
        body = parse(MovementBody, request)
        return 201, self.bus.handle(cmd.RecordMovement(
            principal, body.branch, body.kind, body.sku, body.quantity, body.counted, body.note))

    @http("PUT", "/api/v1/reorder-points")
    @json_api("/api/v1/reorder-points")
    def put_reorder_point(self, request):
        principal = self.store.principal(request)
        body = parse(ReorderPointBody, request)
        return 200, self.bus.handle(cmd.SetReorderPoint(principal, body.branch, body.sku,
                                                        body.reorder_point))

    @http("GET", "/api/v1/ledger")
    @json_api("/api/v1/ledger")
    def get_ledger(self, request):
        principal = self.store.principal(request)
        a = request.args
        return 200, views.ledger_view(self.store.uow(), principal, a.get("branch"),
                                      a.get("ticket_no"), self._branches(),
                                      _limit(a.get("limit")), a.get("sku"), a.get("request_id"))

    # -- parts requests -----------------------------------------------------------------------
    @http("POST", "/api/v1/parts-requests")
    @json_api("/api/v1/parts-requests")
    def post_request(self, request):
        principal = self.store.principal(request)
        principal.require_role("engineer", "dispatcher", "manager")
        body = parse(RequestBody, request)
        return 201, self._do(cmd.RequestParts(
            principal, body.ticket_no, body.branch,
            tuple((line.sku, line.quantity) for line in body.lines), body.note))

    @http("GET", "/api/v1/parts-requests")
    @json_api("/api/v1/parts-requests")
    def list_requests(self, request):
        principal = self.store.principal(request)
        a = request.args
        return 200, views.list_requests(self.store.uow(), principal, self._branches(),
                                        a.get("branch"), a.get("status"), a.get("ticket_no"),
                                        _limit(a.get("limit")))

    @http("GET", "/api/v1/parts-requests/<string:request_id>")
    @json_api("/api/v1/parts-requests/{request_id}")
    def get_request(self, request, request_id):
        principal = self.store.principal(request)
        return 200, views.get_request(self.store.uow(), principal, request_id)

    @http("POST", "/api/v1/parts-requests/<string:request_id>/approve")
    @json_api("/api/v1/parts-requests/{request_id}/approve")
    def approve(self, request, request_id):
        principal = self.store.principal(request)
        body = parse(NoteBody, request, empty_ok=True)
        return 200, self._do(cmd.ApproveRequest(principal, request_id, body.note))

    @http("POST", "/api/v1/parts-requests/<string:request_id>/reject")
    @json_api("/api/v1/parts-requests/{request_id}/reject")
    def reject(self, request, request_id):
        principal = self.store.principal(request)
        body = parse(ReasonBody, request)
        return 200, self._do(cmd.RejectRequest(principal, request_id, body.reason))

    @http("POST", "/api/v1/parts-requests/<string:request_id>/ship")
    @json_api("/api/v1/parts-requests/{request_id}/ship")
    def ship(self, request, request_id):
        principal = self.store.principal(request)
        return 200, self._do(cmd.ShipRequest(principal, request_id))

    @http("POST", "/api/v1/parts-requests/<string:request_id>/deliver")
    @json_api("/api/v1/parts-requests/{request_id}/deliver")
    def deliver(self, request, request_id):
        principal = self.store.principal(request)
        return 200, self._do(cmd.DeliverRequest(principal, request_id))

    @http("POST", "/api/v1/parts-requests/<string:request_id>/return-unused")
    @json_api("/api/v1/parts-requests/{request_id}/return-unused")
    def return_unused(self, request, request_id):
        principal = self.store.principal(request)
        return 200, self._do(cmd.ReturnUnused(principal, request_id))

    @http("POST", "/api/v1/parts-requests/<string:request_id>/cancel")
    @json_api("/api/v1/parts-requests/{request_id}/cancel")
    def cancel(self, request, request_id):
        principal = self.store.principal(request)
        body = parse(ReasonBody, request)
        return 200, self._do(cmd.CancelRequest(principal, request_id, body.reason))

    # -- transfers and backorders -------------------------------------------------------------
    @http("GET", "/api/v1/transfers")
    @json_api("/api/v1/transfers")
    def list_transfers(self, request):
        principal = self.store.principal(request)
        a = request.args
        return 200, views.list_transfers(self.store.uow(), principal, self._branches(),
                                         a.get("branch"), a.get("status"), _limit(a.get("limit")))

    @http("POST", "/api/v1/transfers/<string:transfer_id>/receive")
    @json_api("/api/v1/transfers/{transfer_id}/receive")
    def receive_transfer(self, request, transfer_id):
        principal = self.store.principal(request)
        return 200, self._do(cmd.ReceiveTransfer(principal, transfer_id))

    @http("GET", "/api/v1/backorders")
    @json_api("/api/v1/backorders")
    def list_backorders(self, request):
        principal = self.store.principal(request)
        a = request.args
        return 200, views.list_backorders(self.store.uow(), principal, self._branches(),
                                          a.get("branch"), a.get("status"), _limit(a.get("limit")))

    @http("POST", "/api/v1/backorders/<string:backorder_id>/receive")
    @json_api("/api/v1/backorders/{backorder_id}/receive")
    def receive_backorder(self, request, backorder_id):
        principal = self.store.principal(request)
        return 200, self._do(cmd.ReceiveBackorder(principal, backorder_id))

    # -- returns of faulty parts (RMA) --------------------------------------------------------
    @http("POST", "/api/v1/returns")
    @json_api("/api/v1/returns")
    def post_return(self, request):
        principal = self.store.principal(request)
        body = parse(ReturnBody, request)
        return 201, self.bus.handle(cmd.OpenReturn(principal, body.branch, body.sku,
                                                   body.serial_no, body.model, body.fault,
                                                   body.ticket_no))

    @http("GET", "/api/v1/returns")
    @json_api("/api/v1/returns")
    def list_returns(self, request):
        principal = self.store.principal(request)
        a = request.args
        return 200, views.list_returns(self.store.uow(), principal, self._branches(),
                                       a.get("branch"), a.get("status"), _limit(a.get("limit")))

    @http("GET", "/api/v1/returns/<string:return_id>")
    @json_api("/api/v1/returns/{return_id}")
    def get_return(self, request, return_id):
        principal = self.store.principal(request)
        return 200, views.get_return(self.store.uow(), principal, return_id)

    @http("POST", "/api/v1/returns/<string:return_id>/inspect")
    @json_api("/api/v1/returns/{return_id}/inspect")
    def inspect(self, request, return_id):
        principal = self.store.principal(request)
        body = parse(InspectBody, request)
        return 200, self.bus.handle(cmd.InspectReturn(principal, return_id, body.decision,
                                                      body.note))

    # -- reports ------------------------------------------------------------------------------
    @http("GET", "/api/v1/reports/defects")
    @json_api("/api/v1/reports/defects")
    def defects(self, request):
        principal = self.store.principal(request)
        a = request.args
        return 200, reports.defects_report(self.store.uow(), principal, self._branches(),
                                           a.get("branch"), a.get("model"),
                                           query_time(a.get("since"), "since"),
                                           query_time(a.get("until"), "until"))

    @http("GET", "/api/v1/reports/ledger")
    def ledger_report(self, request):
        return report_response(
            self, request, "/api/v1/reports/ledger",
            lambda svc, req: reports.ledger_report(
                svc.store.uow(), svc.store.principal(req), svc._branches(),
                req.args.get("branch"), req.args.get("month")),
            reports.ledger_report_csv, lambda r: f"parts-ledger-{r['branch']}-{r['month']}.csv")
