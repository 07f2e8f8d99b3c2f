"""Parts' commands: what a person (over HTTP) asks parts to do. Each is handled by the bus
(``bootstrap.COMMANDS``) in one unit of work."""
from __future__ import annotations

from dataclasses import dataclass

from aftersales.auth import Principal


# -- parts requests ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RequestParts:
    principal: Principal
    ticket_no: str
    branch: str | None
    lines: tuple[tuple[str, int], ...]      # (sku, quantity)
    note: str | None = None


@dataclass(frozen=True)
class _OnRequest:
    """A change of one parts request."""

    principal: Principal
    request_id: str


@dataclass(frozen=True)
class ApproveRequest(_OnRequest):
    note: str | None = None


@dataclass(frozen=True)
class RejectRequest(_OnRequest):
    reason: str


class ShipRequest(_OnRequest):
    """Issue what is reserved on the shelf."""


class DeliverRequest(_OnRequest):
    """The parts reached the site."""


class ReturnUnused(_OnRequest):
    """Unused parts came back to the warehouse."""


@dataclass(frozen=True)
class CancelRequest(_OnRequest):
    reason: str


# -- transfers and backorders -----------------------------------------------------------------
@dataclass(frozen=True)
class ReceiveTransfer:
    principal: Principal
    transfer_id: str


@dataclass(frozen=True)
class ReceiveBackorder:
    principal: Principal
    backorder_id: str


# -- the warehouse's own movements and reorder points -----------------------------------------
@dataclass(frozen=True)
class RecordMovement:
    principal: Principal
    branch: str | None
    kind: str
    sku: str
    quantity: int | None = None
    counted: int | None = None
    note: str | None = None


@dataclass(frozen=True)
class SetReorderPoint:
    principal: Principal
    branch: str | None
    sku: str
    reorder_point: int | None


# -- returns of faulty parts (RMA) ------------------------------------------------------------
@dataclass(frozen=True)
class OpenReturn:
    principal: Principal
    branch: str | None
    sku: str
    serial_no: str | None
    model: str
    fault: str
    ticket_no: str | None = None


@dataclass(frozen=True)
class InspectReturn:
    principal: Principal
    return_id: str
    decision: str
    note: str | None = None
