"""Parts requests (售后维护申请单): approval, where the parts come from, and the request's life.

Pure Python: no framework, database or broker imports.

A request names a ticket and lines of SKU and quantity. It is approved by the branch's
technical-support manager, or automatically when it is in warranty and the ticket's auto-approved total stays under a
threshold (at cost price: what the company pays). Once approved, each line is served from
the branch's own warehouse first, then by transfer from the nearest branches that have the
part available, and what is left is backordered from the supplier with the part's lead time.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Mapping, Sequence

from .model import Line, Part, money

PENDING = "pending_approval"
REJECTED = "rejected"
OPEN = "open"              # approved: parts reserved, in transfer or backordered
SHIPPED = "shipped"        # reserved parts issued to the engineer / on their way to the site
DELIVERED = "delivered"    # handed over on site
COMPLETED = "completed"    # the job is done and consumed what it used; unused parts still out
CLOSED = "closed"          # nothing left: consumed, released or returned
CANCELLED = "cancelled"

STATUSES = (PENDING, REJECTED, OPEN, SHIPPED, DELIVERED, COMPLETED, CLOSED, CANCELLED)
ACTIVE = (OPEN, SHIPPED, DELIVERED)           # approved and not finished: holds parts
FINAL = (REJECTED, CLOSED, CANCELLED)

# action -> states it is allowed from
ALLOWED = {
    "approve": (PENDING,),
    "reject": (PENDING,),
    "ship": ACTIVE,
    "deliver": (SHIPPED,),
    "complete": (PENDING,) + ACTIVE,
    "return_unused": (COMPLETED,),
    "cancel": (PENDING, OPEN),
}

DEFAULT_AUTO_APPROVE_LIMIT = Decimal("2000.00")   # CNY at cost price
DEFAULT_TRANSFER_DAYS = 1


class InvalidTransition(Exception):
    """The request is not in a state that allows this (HTTP 409)."""


@dataclass(frozen=True)
class RequestLine:
    sku: str
    name: str
    unit: str
    quantity: int
    unit_price: Decimal     # price on a paid job
    cost_price: Decimal     # what the company pays

    @property
    def line_total(self) -> Decimal:
        return money(self.unit_price * self.quantity)

    @property
    def line_cost(self) -> Decimal:
        return money(self.cost_price * self.quantity)

    @classmethod
    def of(cls, part: Part, quantity: int) -> "RequestLine":
        if quantity < 1:
            raise ValueError(f"quantity of {part.sku} must be at least 1")
        return cls(part.sku, part.name, part.unit, quantity, money(part.price),
                   money(part.cost_price))

    def as_dict(self) -> dict:
        return {"sku": self.sku, "name": self.name, "unit": self.unit, "quantity": self.quantity,
                "unit_price": str(self.unit_price), "cost_price": str(self.cost_price)}

    @classmethod
    def from_dict(cls, d: Mapping) -> "RequestLine":
        return cls(d["sku"], d["name"], d["unit"], int(d["quantity"]), Decimal(d["unit_price"]),
                   Decimal(d["cost_price"]))


@dataclass
class PartsRequest:
    request_id: str
    ticket_no: str
    branch: str
    in_warranty: bool
    lines: tuple[RequestLine, ...]
    requested_by: str
    created_at: datetime
    source: str = "http"               # http | dispatch (the parts_requested event)
    status: str = PENDING
    note: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    auto_approved: bool = False
    reason: str | None = None          # why it was rejected or cancelled
    history: list[dict] = field(default_factory=list)

    # -- value ------------------------------------------------------------------------------
    @property
    def total(self) -> Decimal:
        return money(sum((line.line_total for line in self.lines), Decimal(0)))

    @property
    def cost_total(self) -> Decimal:
        return money(sum((line.line_cost for line in self.lines), Decimal(0)))

    @property
    def chargeable_total(self) -> Decimal:
        """What the customer pays for the parts: nothing in warranty."""
        return money(0) if self.in_warranty else self.total

    def quantities(self) -> dict[str, int]:
        """``sku -> quantity`` over all lines (a SKU may appear on several lines)."""
        out: dict[str, int] = {}
        for line in self.lines:
            out[line.sku] = out.get(line.sku, 0) + line.quantity
        return out

    # -- life -------------------------------------------------------------------------------
    def _to(self, action: str, status: str, by: str, at: datetime, **extra) -> None:
        if self.status not in ALLOWED[action]:
            raise InvalidTransition(f"parts request {self.request_id} is {self.status}: cannot "
                                    f"{action.replace('_', ' ')} it")
        self.history.append({"action": action, "from": self.status, "to": status, "by": by,
                             "at": at.isoformat(), **{k: v for k, v in extra.items() if v}})
        self.status = status

    def approve(self, by: str, at: datetime, auto: bool = False, note: str | None = None) -> None:
        self._to("approve", OPEN, by, at, auto=auto, note=note)
        self.decided_by, self.decided_at, self.auto_approved = by, at, auto

    def reject(self, by: str, at: datetime, reason: str) -> None:
        self._to("reject", REJECTED, by, at, reason=reason)
        self.decided_by, self.decided_at, self.reason = by, at, reason

    def ship(self, by: str, at: datetime) -> None:
        self._to("ship", SHIPPED, by, at)

    def deliver(self, by: str, at: datetime) -> None:
        self._to("deliver", DELIVERED, by, at)

    def complete(self, by: str, at: datetime, parts_out: bool) -> None:
        """The job was completed. A request never approved is cancelled; otherwise it is
        completed (``parts_out``: unused parts are still with the engineer) or closed."""
        if self.status == PENDING:
            self._to("complete", CANCELLED, by, at, reason="job completed before approval")
            self.reason = "job completed before approval"
            return
        self._to("complete", COMPLETED if parts_out else CLOSED, by, at)

    def return_unused(self, by: str, at: datetime) -> None:
        self._to("return_unused", CLOSED, by, at)

    def cancel(self, by: str, at: datetime, reason: str) -> None:
        self._to("cancel", CANCELLED, by, at, reason=reason)
        self.reason = reason


def auto_approves(in_warranty: bool, cost_total: Decimal, limit: Decimal,
                  ticket_before: Decimal = Decimal(0)) -> bool:
    """In-warranty requests need no manager while the ticket's total (at cost) of requests
    approved so without one, this one included, stays under ``limit``: splitting an order
    into small requests does not avoid the manager."""
    return in_warranty and ticket_before + cost_total < limit


# -- where the parts come from ------------------------------------------------------------------
def nearest_branches(branches: Mapping[str, Mapping], origin: str) -> list[str]:
    """Other branches from nearest to farthest: breadth-first over the ``neighbours`` lists of
    branches.json (a neighbour relation is taken both ways), ties in the order listed.
    Branches not connected to ``origin`` are not candidates for a transfer."""
    links: dict[str, list[str]] = {code: [] for code in branches}
    for code, b in branches.items():
        for n in b.get("neighbours", ()) or ():
            if n in links and n != code:
                if n not in links[code]:
                    links[code].append(n)
    for code, b in branches.items():
        for n in b.get("neighbours", ()) or ():
            if n in links and code not in links[n]:
                links[n].append(code)
    seen, order, queue = {origin}, [], deque([origin])
    while queue:
        for n in links.get(queue.popleft(), ()):
            if n not in seen:
                seen.add(n)
                order.append(n)
                queue.append(n)
    return order


@dataclass(frozen=True)
class Allocation:
    reserve: tuple[Line, ...] = ()                                # from the local warehouse
    transfers: tuple[tuple[str, tuple[Line, ...]], ...] = ()      # (from warehouse, lines)
    backorders: tuple[Line, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.transfers and not self.backorders


def plan_allocation(quantities: Mapping[str, int], local: Mapping[str, int],
                    others: Sequence[tuple[str, Mapping[str, int]]]) -> Allocation:
    """Serve ``quantities`` (``sku -> n``): reserve what the local warehouse has available,
    transfer the rest from the other warehouses in the order given (nearest first), each
    giving what it has available, and backorder what nobody has."""
    reserve: list[Line] = []
    transfers: dict[str, list[Line]] = {}
    backorders: list[Line] = []
    for sku, wanted in quantities.items():
        if wanted < 1:
            raise ValueError(f"quantity of {sku} must be at least 1")
        n = min(wanted, max(local.get(sku, 0), 0))
        if n:
            reserve.append(Line(sku, n))
        rest = wanted - n
        for warehouse, stock in others:
            if not rest:
                break
            n = min(rest, max(stock.get(sku, 0), 0))
            if n:
                transfers.setdefault(warehouse, []).append(Line(sku, n))
                rest -= n
        if rest:
            backorders.append(Line(sku, rest))
    order = [w for w, _ in others if w in transfers]
    return Allocation(tuple(reserve), tuple((w, tuple(transfers[w])) for w in order),
                      tuple(backorders))


def expected_at(now: datetime, days: int) -> datetime:
    return now + timedelta(days=days)


@dataclass(frozen=True)
class Backorder:
    backorder_id: str
    request_id: str | None
    ticket_no: str | None
    warehouse: str
    sku: str
    quantity: int
    lead_time_days: int
    expected_at: datetime
    created_at: datetime
    status: str = "open"           # open | received | cancelled
    closed_at: datetime | None = None

    def receive(self, at: datetime) -> "Backorder":
        if self.status != "open":
            raise InvalidTransition(f"backorder {self.backorder_id} is {self.status}")
        return replace(self, status="received", closed_at=at)

    def cancel(self, at: datetime) -> "Backorder":
        if self.status != "open":
            raise InvalidTransition(f"backorder {self.backorder_id} is {self.status}")
        return replace(self, status="cancelled", closed_at=at)


@dataclass(frozen=True)
class Transfer:
    transfer_id: str
    from_warehouse: str
    to_warehouse: str
    lines: tuple[Line, ...]
    created_at: datetime
    expected_at: datetime
    request_id: str | None = None
    ticket_no: str | None = None
    status: str = "in_transit"     # in_transit | received
    received_at: datetime | None = None
    received_by: str | None = None

    def receive(self, by: str, at: datetime) -> "Transfer":
        if self.status != "in_transit":
            raise InvalidTransition(f"transfer {self.transfer_id} was received already")
        return replace(self, status="received", received_at=at, received_by=by)
