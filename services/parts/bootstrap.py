"""Parts' message bus: what each consumed event and each command runs, and which of parts'
domain errors mean what to a client, in three tables; ``build(store)`` makes the bus of a
worker (``Bus(bootstrap.build)`` on the service), ``bus_for(sessions, settings)`` the same
bus over a session factory for tests."""
from __future__ import annotations

import os
from decimal import Decimal, InvalidOperation
from typing import Mapping

from aftersales import metrics
from aftersales.errors import Conflict
from aftersales.messagebus import MessageBus
from aftersales.reference import branches as reference_branches

from .adapters.repository import PartsUnitOfWork
from .domain import requests as rq, returns as rma
from .domain.model import StockError
from .service_layer import (commands, consumption, requests, returns, transfers, warehouse,
                            warranty)
from .service_layer.common import Settings

EVENTS = {
    "job_completed": consumption.on_job_completed,
    "parts_requested": requests.on_parts_requested,
    "ticket_opened": warranty.on_ticket_opened,
}

COMMANDS = {
    commands.RequestParts: requests.create,
    commands.ApproveRequest: requests.approve,
    commands.RejectRequest: requests.reject,
    commands.ShipRequest: requests.ship,
    commands.DeliverRequest: requests.deliver,
    commands.ReturnUnused: requests.return_unused,
    commands.CancelRequest: requests.cancel,
    commands.ReceiveTransfer: transfers.receive_transfer,
    commands.ReceiveBackorder: transfers.receive_backorder,
    commands.RecordMovement: warehouse.record_movement,
    commands.SetReorderPoint: warehouse.set_reorder_point,
    commands.OpenReturn: returns.open_return,
    commands.InspectReturn: returns.inspect_return,
}


def _conflict(exc: BaseException) -> Conflict:
    return Conflict(str(exc))


# domain refusals (wrong state, QC decided already) and impossible stock movements: 409
ERRORS = {
    rq.InvalidTransition: _conflict,
    rma.AlreadyInspected: _conflict,
    StockError: _conflict,
}


def branches_of(config: Mapping) -> dict:
    """The branches (their warehouses) from the reference data; every branch's backorder
    series starts from zero."""
    known = reference_branches(config.get("reference_dir"))
    for code in known:
        metrics.parts_backorders_total.labels(code)
    return known


def settings_from(config: Mapping, service_config: Mapping, env=os.environ) -> Settings:
    """``PARTS_AUTO_APPROVE_LIMIT`` and ``PARTS_TRANSFER_DAYS`` from the nameko config, else
    the environment."""
    raw = service_config.get("PARTS_AUTO_APPROVE_LIMIT", env.get("PARTS_AUTO_APPROVE_LIMIT", ""))
    try:
        limit = Decimal(str(raw)) if str(raw).strip() else rq.DEFAULT_AUTO_APPROVE_LIMIT
    except InvalidOperation:
        raise ValueError(f"PARTS_AUTO_APPROVE_LIMIT is not an amount: {raw!r}") from None
    days = int(service_config.get("PARTS_TRANSFER_DAYS",
                                  env.get("PARTS_TRANSFER_DAYS", rq.DEFAULT_TRANSFER_DAYS)))
    return Settings(branches_of(config), limit, days)


def _bus(uow, settings: Settings) -> MessageBus:
    return MessageBus(uow, events=EVENTS, commands=COMMANDS, errors=ERRORS,
                      settings=settings, branches=settings.branches)


def build(store) -> MessageBus:
    """The bus of one worker (``store``: :class:`aftersales.service.StoreAccess`)."""
    return _bus(store.uow, settings_from(store.config, store.service_config))


def bus_for(session_factory, settings: Settings, on_commit=None) -> MessageBus:
    """The same tables over a session factory (tests)."""
    return _bus(lambda: PartsUnitOfWork(session_factory, "parts", on_commit=on_commit),
                settings)
