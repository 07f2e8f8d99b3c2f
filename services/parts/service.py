"""The parts nameko service: entrypoints only. An HTTP command goes principal -> body
(``bodies.py``) -> command -> ``self.bus.handle``; a consumed event to
``self.bus.handle_event``; reads to the views."""
from __future__ import annotations

from pathlib import Path

from aftersales import metrics
from aftersales.messaging.entrypoint import consume_events
from aftersales.openapi import documented
from aftersales.service import BaseService, Bus, Store, json_api, parse, report_response
from aftersales.web import http

from . import bootstrap, responses as r
from .adapters.repository import LedgerRepository, PartsUnitOfWork
from .bodies import (BackordersQuery, CatalogueQuery, DefectsQuery, InspectBody, LedgerQuery,
                     LedgerReportQuery, MovementBody, NoteBody, ReasonBody, ReorderPointBody,
                     RequestBody, RequestsQuery, ReturnBody, ReturnsQuery, StockQuery,
                     TransfersQuery, parse_query)
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
    @consume_events("aftersales.parts.events", batch=16)
    def on_event(self, envelopes):
        for result in self.bus.handle_events(envelopes):
            if isinstance(result, Outcome):
                _count(result)

    # -- catalogue and stock -----------------------------------------------------------------
    @http("GET", "/api/v1/catalogue")
    @json_api("/api/v1/catalogue", query=CatalogueQuery, response=r.CatalogueAnswer)
    def get_catalogue(self, request):
        """The parts catalogue (prices in CNY), optionally only what fits an equipment model."""
        self.store.principal(request)
        q = parse_query(CatalogueQuery, request)
        return 200, views.catalogue_view(self.store.uow(), q.model)

    @http("GET", "/api/v1/stock")
    @json_api("/api/v1/stock", query=StockQuery, response=r.StockAnswer)
    def get_stock(self, request):
        """A branch warehouse's stock of every catalogue part, and its reorder points."""
        principal = self.store.principal(request)
        q = parse_query(StockQuery, request)
        return 200, views.stock_view(self.store.uow(), principal, q.branch, self._branches())

    @http("POST", "/api/v1/stock/movements")
    @json_api("/api/v1/stock/movements", body=MovementBody, response=r.MovementAnswer,
              status=201, errors=(409,))
    def post_movement(self, request):
        """A warehouse's own movement: a receipt, a write-off (scrap) or a stocktake.
        409 when a write-off takes more than is available."""
        principal = self.store.principal(request)
        body = parse(MovementBody, request)
        return 201, self.bus.handle(cmd.RecordMovement(
            principal, body.branch, body.kind, body.sku, body.quantity, body.counted, body.note))

    @http("PUT", "/api/v1/reorder-points")
    @json_api("/api/v1/reorder-points", body=ReorderPointBody, response=r.ReorderPointAnswer)
    def put_reorder_point(self, request):
        """Set (or with null clear) a warehouse's reorder point for a SKU."""
        principal = self.store.principal(request)
        body = parse(ReorderPointBody, request)
        return 200, self.bus.handle(cmd.SetReorderPoint(principal, body.branch, body.sku,
                                                        body.reorder_point))

    @http("GET", "/api/v1/ledger")
    @json_api("/api/v1/ledger", query=LedgerQuery, response=r.LedgerAnswer)
    def get_ledger(self, request):
        """A branch warehouse's stock ledger: its latest movements, oldest first."""
        principal = self.store.principal(request)
        q = parse_query(LedgerQuery, request)
        return 200, views.ledger_view(self.store.uow(), principal, q.branch, q.ticket_no,
                                      self._branches(), q.limit, q.sku, q.request_id)

    # -- parts requests -----------------------------------------------------------------------
    @http("POST", "/api/v1/parts-requests")
    @json_api("/api/v1/parts-requests", body=RequestBody, response=r.PartsRequestView,
              status=201)
    def post_request(self, request):
        """Request parts for a ticket: auto-approved (and reserved) when the rule allows, else
        it waits for the manager."""
        principal = self.store.principal(request)
        principal.require_role("engineer", "dispatcher", "manager")
        body = parse(RequestBody, request)
        return 201, self._do(cmd.RequestParts(
            principal, body.ticket_no, body.branch,
            tuple((line.sku, line.quantity) for line in body.lines), body.note))

    @http("GET", "/api/v1/parts-requests")
    @json_api("/api/v1/parts-requests", query=RequestsQuery, response=r.RequestList)
    def list_requests(self, request):
        """Parts requests, newest first."""
        principal = self.store.principal(request)
        q = parse_query(RequestsQuery, request)
        return 200, views.list_requests(self.store.uow(), principal, self._branches(),
                                        q.branch, q.status, q.ticket_no, q.limit)

    @http("GET", "/api/v1/parts-requests/<string:request_id>")
    @json_api("/api/v1/parts-requests/{request_id}", response=r.PartsRequestView)
    def get_request(self, request, request_id):
        """One parts request: its lines, stock, transfers, backorders and history."""
        principal = self.store.principal(request)
        return 200, views.get_request(self.store.uow(), principal, request_id)

    @http("POST", "/api/v1/parts-requests/<string:request_id>/approve")
    @json_api("/api/v1/parts-requests/{request_id}/approve", body=NoteBody,
              response=r.PartsRequestView, errors=(409,))
    def approve(self, request, request_id):
        """The manager approves a pending request (the body may be empty): parts are reserved,
        transferred or backordered."""
        principal = self.store.principal(request)
        body = parse(NoteBody, request, empty_ok=True)
        return 200, self._do(cmd.ApproveRequest(principal, request_id, body.note))

    @http("POST", "/api/v1/parts-requests/<string:request_id>/reject")
    @json_api("/api/v1/parts-requests/{request_id}/reject", body=ReasonBody,
              response=r.PartsRequestView, errors=(409,))
    def reject(self, request, request_id):
        """The manager rejects a pending request."""
        principal = self.store.principal(request)
        body = parse(ReasonBody, request)
        return 200, self._do(cmd.RejectRequest(principal, request_id, body.reason))

    @http("POST", "/api/v1/parts-requests/<string:request_id>/ship")
    @json_api("/api/v1/parts-requests/{request_id}/ship", response=r.PartsRequestView,
              errors=(409,))
    def ship(self, request, request_id):
        """Issue the reserved parts on the shelf to the engineer (409: nothing to ship)."""
        principal = self.store.principal(request)
        return 200, self._do(cmd.ShipRequest(principal, request_id))

    @http("POST", "/api/v1/parts-requests/<string:request_id>/deliver")
    @json_api("/api/v1/parts-requests/{request_id}/deliver", response=r.PartsRequestView,
              errors=(409,))
    def deliver(self, request, request_id):
        """The shipped parts were handed over on site."""
        principal = self.store.principal(request)
        return 200, self._do(cmd.DeliverRequest(principal, request_id))

    @http("POST", "/api/v1/parts-requests/<string:request_id>/return-unused")
    @json_api("/api/v1/parts-requests/{request_id}/return-unused",
              response=r.PartsRequestView, errors=(409,))
    def return_unused(self, request, request_id):
        """The parts a completed job did not use came back: released to stock."""
        principal = self.store.principal(request)
        return 200, self._do(cmd.ReturnUnused(principal, request_id))

    @http("POST", "/api/v1/parts-requests/<string:request_id>/cancel")
    @json_api("/api/v1/parts-requests/{request_id}/cancel", body=ReasonBody,
              response=r.PartsRequestView, errors=(409,))
    def cancel(self, request, request_id):
        """Cancel a request before anything was shipped: reservations released, open
        backorders cancelled."""
        principal = self.store.principal(request)
        body = parse(ReasonBody, request)
        return 200, self._do(cmd.CancelRequest(principal, request_id, body.reason))

    # -- transfers and backorders -------------------------------------------------------------
    @http("GET", "/api/v1/transfers")
    @json_api("/api/v1/transfers", query=TransfersQuery, response=r.TransferList)
    def list_transfers(self, request):
        """Transfers between branch warehouses, newest first."""
        principal = self.store.principal(request)
        q = parse_query(TransfersQuery, request)
        return 200, views.list_transfers(self.store.uow(), principal, self._branches(),
                                         q.branch, q.status, q.limit)

    @http("POST", "/api/v1/transfers/<string:transfer_id>/receive")
    @json_api("/api/v1/transfers/{transfer_id}/receive", response=r.TransferView,
              errors=(409,))
    def receive_transfer(self, request, transfer_id):
        """The destination warehouse received a transfer (409: received already)."""
        principal = self.store.principal(request)
        return 200, self._do(cmd.ReceiveTransfer(principal, transfer_id))

    @http("GET", "/api/v1/backorders")
    @json_api("/api/v1/backorders", query=BackordersQuery, response=r.BackorderList)
    def list_backorders(self, request):
        """Backorders with suppliers, newest first."""
        principal = self.store.principal(request)
        q = parse_query(BackordersQuery, request)
        return 200, views.list_backorders(self.store.uow(), principal, self._branches(),
                                          q.branch, q.status, q.limit)

    @http("POST", "/api/v1/backorders/<string:backorder_id>/receive")
    @json_api("/api/v1/backorders/{backorder_id}/receive", response=r.BackorderView,
              errors=(409,))
    def receive_backorder(self, request, backorder_id):
        """The supplier delivered a backordered line (409: not open any more)."""
        principal = self.store.principal(request)
        return 200, self._do(cmd.ReceiveBackorder(principal, backorder_id))

    # -- returns of faulty parts (RMA) --------------------------------------------------------
    @http("POST", "/api/v1/returns")
    @json_api("/api/v1/returns", body=ReturnBody, response=r.ReturnView, status=201)
    def post_return(self, request):
        """A part removed on site came back to its branch: it waits for QC."""
        principal = self.store.principal(request)
        body = parse(ReturnBody, request)
        return 201, self.bus.handle(cmd.OpenReturn(principal, body.branch, body.sku,
                                                   body.serial_no, body.model, body.fault,
                                                   body.ticket_no))

    @http("GET", "/api/v1/returns")
    @json_api("/api/v1/returns", query=ReturnsQuery, response=r.ReturnList)
    def list_returns(self, request):
        """Returns of faulty parts, newest first."""
        principal = self.store.principal(request)
        q = parse_query(ReturnsQuery, request)
        return 200, views.list_returns(self.store.uow(), principal, self._branches(),
                                       q.branch, q.status, q.limit)

    @http("GET", "/api/v1/returns/<string:return_id>")
    @json_api("/api/v1/returns/{return_id}", response=r.ReturnView)
    def get_return(self, request, return_id):
        """One return of a faulty part."""
        principal = self.store.principal(request)
        return 200, views.get_return(self.store.uow(), principal, return_id)

    @http("POST", "/api/v1/returns/<string:return_id>/inspect")
    @json_api("/api/v1/returns/{return_id}/inspect", body=InspectBody, response=r.ReturnView,
              errors=(409,))
    def inspect(self, request, return_id):
        """QC's decision on a returned part (409: inspected already)."""
        principal = self.store.principal(request)
        body = parse(InspectBody, request)
        return 200, self.bus.handle(cmd.InspectReturn(principal, return_id, body.decision,
                                                      body.note))

    # -- reports ------------------------------------------------------------------------------
    @http("GET", "/api/v1/reports/defects")
    @json_api("/api/v1/reports/defects", query=DefectsQuery, response=r.DefectsReport)
    def defects(self, request):
        """Returned parts and QC's decisions per equipment model (design defects for R&D)."""
        principal = self.store.principal(request)
        q = parse_query(DefectsQuery, request)
        return 200, reports.defects_report(self.store.uow(), principal, self._branches(),
                                           q.branch, q.model, q.since, q.until)

    @http("GET", "/api/v1/reports/ledger")
    @documented(route="/api/v1/reports/ledger", query=LedgerReportQuery,
                response=r.LedgerReport, media=r.CSV)
    def ledger_report(self, request):
        """The monthly parts ledger of a branch warehouse (售后物品清单), as JSON or CSV."""
        return report_response(
            self, request, "/api/v1/reports/ledger", _ledger_report,
            reports.ledger_report_csv, lambda rep: f"parts-ledger-{rep['branch']}-{rep['month']}.csv")


def _ledger_report(svc, request) -> dict:
    principal = svc.store.principal(request)
    q = parse_query(LedgerReportQuery, request)
    return reports.ledger_report(svc.store.uow(), principal, svc._branches(), q.branch, q.month)
