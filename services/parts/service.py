"""The parts nameko service: turns messages and HTTP requests into handler calls."""
from __future__ import annotations

from pathlib import Path

from nameko.web.handlers import http

from aftersales.errors import InvalidInput
from aftersales.messaging.entrypoint import consume_events
from aftersales.reference import branches
from aftersales.service import BaseService, Store, json_api

from .adapters.repository import PartsUnitOfWork
from .service_layer import handlers


def gauges(session, settings):
    from .adapters.repository import LedgerRepository
    samples = [((warehouse, sku), n) for warehouse, sku, n in LedgerRepository(session).totals()]
    return [("aftersales_parts_stock", "Parts on hand per branch warehouse, from the ledger.",
             ["branch", "sku"], samples)]


def _limit(raw: str | None) -> int:
    try:
        limit = int(raw) if raw else 200
    except ValueError:
        limit = 0
    if not 1 <= limit <= 1000:
        raise InvalidInput([{"field": "limit", "message": "must be a whole number from 1 to 1000"}])
    return limit


class PartsService(BaseService):
    name = "parts"
    store = Store(Path(__file__).parent / "migrations", PartsUnitOfWork, gauges=gauges)

    def _branches(self) -> dict:
        return branches(self.store.config.get("reference_dir"))

    @consume_events("aftersales.parts.events")
    def on_job_completed(self, envelope):
        handlers.consume_for_job(self.store.uow(), envelope, self._branches())

    @http("GET", "/api/v1/stock")
    @json_api("/api/v1/stock")
    def get_stock(self, request):
        principal = self.store.principal(request)
        return 200, handlers.stock_view(self.store.uow(), principal, request.args.get("branch"),
                                        self._branches())

    @http("GET", "/api/v1/ledger")
    @json_api("/api/v1/ledger")
    def get_ledger(self, request):
        principal = self.store.principal(request)
        return 200, handlers.ledger_view(self.store.uow(), principal, request.args.get("branch"),
                                         request.args.get("ticket_no"), self._branches(),
                                         _limit(request.args.get("limit")))
