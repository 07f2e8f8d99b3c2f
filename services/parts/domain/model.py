"""Parts' domain: the catalogue, the stock ledger and how a job's parts are taken from stock.

Pure Python: no framework, database or broker imports.

Stock is never stored as a number that gets overwritten: every movement is an immutable
ledger entry and the stock figures are sums of the entries. A warehouse is a branch's store
and is named by the branch code (``SH``, ``HZ`` ...).

Each entry carries three signed quantities for one warehouse and SKU:

- ``quantity``: the change of **on hand** (the warehouse's own stock, including parts that are
  reserved and parts issued to an engineer that are not fitted yet);
- ``reserved``: the change of **reserved** (set aside for a parts request);
- ``issued``: the change of **issued** (reserved parts that left the shelf with an engineer).

so that ``on_hand = Σ quantity``, ``reserved = Σ reserved``, ``issued = Σ issued``,
``available = on_hand - reserved`` and, at every point of the ledger,
``0 <= issued <= reserved <= on_hand``. What a kind of movement may change is fixed by
:data:`EFFECTS`.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Iterable, Mapping, Sequence

from aftersales.money import money  # noqa: F401  (the one helper of every service; re-exported)

# -- kinds of ledger movement ---------------------------------------------------------------
RECEIVE = "receive"            # goods in from a supplier (also a backorder arriving)
RESERVE = "reserve"            # set aside for a parts request
RELEASE = "release"            # a reservation lifted: unused parts back to available stock
SHIP = "ship"                  # reserved parts leave the shelf for a site
CONSUME = "consume"            # fitted on a job: out of stock for good
RETURN = "return"              # a part comes back into stock (e.g. repaired after QC)
TRANSFER_OUT = "transfer_out"  # sent to another branch's warehouse
TRANSFER_IN = "transfer_in"    # received from another branch's warehouse
SCRAP = "scrap"                # written off (damaged, obsolete)
ADJUST = "adjust"              # stocktake adjustment (counted minus booked)

KINDS = (RECEIVE, RESERVE, RELEASE, SHIP, CONSUME, RETURN, TRANSFER_OUT, TRANSFER_IN, SCRAP,
         ADJUST)

# kind -> the allowed signs of (quantity, reserved, issued); non-zero parts move the same amount
EFFECTS: dict[str, frozenset[tuple[int, int, int]]] = {
    RECEIVE: frozenset({(1, 0, 0)}),
    RESERVE: frozenset({(0, 1, 0)}),
    RELEASE: frozenset({(0, -1, 0),          # reserved on the shelf
                        (0, -1, -1)}),       # issued, brought back unused
    SHIP: frozenset({(0, 0, 1)}),
    CONSUME: frozenset({(-1, 0, 0),          # free stock (no parts request)
                        (-1, -1, 0),         # a request's parts still on the shelf
                        (-1, -1, -1)}),      # a request's parts issued to the engineer
    RETURN: frozenset({(1, 0, 0)}),
    TRANSFER_OUT: frozenset({(-1, 0, 0)}),
    TRANSFER_IN: frozenset({(1, 0, 0)}),
    SCRAP: frozenset({(-1, 0, 0)}),
    ADJUST: frozenset({(1, 0, 0), (-1, 0, 0)}),
}
INBOUND_KINDS = {RECEIVE, TRANSFER_IN, RETURN}      # quantity > 0
OUTBOUND_KINDS = {CONSUME, TRANSFER_OUT, SCRAP}     # quantity < 0


class StockError(ValueError):
    """A movement would break the ledger's invariants (e.g. take more than is available)."""


def _sign(n: int) -> int:
    return (n > 0) - (n < 0)


@dataclass(frozen=True)
class Part:
    """A catalogue entry. Prices are in CNY (元): ``cost_price`` is what the company pays,
    ``price`` what a customer pays on a paid (out-of-warranty) job."""

    sku: str
    name: str
    unit: str
    cost_price: Decimal
    price: Decimal
    compatible_models: tuple[str, ...] = ()
    lead_time_days: int = 14          # the supplier's lead time for a backorder
    reorder_point: int | None = None  # default for every warehouse; None: no reorder alert

    def fits(self, model: str) -> bool:
        return any(model.strip() == m for m in self.compatible_models)


@dataclass(frozen=True)
class Line:
    """A quantity of one SKU (a line of a job's parts, of a consumption or of a shortage)."""

    sku: str
    quantity: int
    serial_no: str | None = None

    def as_dict(self) -> dict:
        return {"sku": self.sku, "quantity": self.quantity, "serial_no": self.serial_no}


@dataclass(frozen=True)
class LedgerEntry:
    warehouse: str
    sku: str
    quantity: int               # signed change of on hand: + into the warehouse, - out of it
    kind: str
    created_at: datetime
    ticket_no: str | None = None
    serial_no: str | None = None
    event_id: str | None = None  # the event that caused the movement, if any
    reserved: int = 0            # signed change of reserved
    issued: int = 0              # signed change of issued (out with an engineer)
    request_id: str | None = None  # the parts request the movement serves
    ref: str | None = None       # transfer, backorder or return id; counterpart warehouse
    note: str | None = None
    actor: str | None = None     # who recorded it (key id and role), or the event type

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown ledger kind {self.kind!r}; one of {', '.join(KINDS)}")
        deltas = (self.quantity, self.reserved, self.issued)
        pattern = tuple(_sign(d) for d in deltas)
        if pattern == (0, 0, 0):
            raise ValueError("a ledger entry moves a non-zero quantity")
        if pattern not in EFFECTS[self.kind]:
            raise ValueError(f"a {self.kind} entry cannot change (on hand, reserved, issued) by "
                             f"{deltas}")
        if len({abs(d) for d in deltas if d}) != 1:
            raise ValueError(f"a {self.kind} entry moves one amount; got {deltas}")

    @property
    def amount(self) -> int:
        """How many units the movement concerns (always positive)."""
        return max(abs(self.quantity), abs(self.reserved), abs(self.issued))


@dataclass(frozen=True)
class StockPosition:
    """The stock of one SKU in one warehouse, as summed from its ledger."""

    on_hand: int = 0
    reserved: int = 0
    issued: int = 0

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    @property
    def on_shelf(self) -> int:
        """Physically in the warehouse (on hand minus what is out with engineers)."""
        return self.on_hand - self.issued

    def valid(self) -> bool:
        return 0 <= self.issued <= self.reserved <= self.on_hand

    def apply(self, e: LedgerEntry) -> "StockPosition":
        """The position after ``e``; StockError if that would break an invariant."""
        after = StockPosition(self.on_hand + e.quantity, self.reserved + e.reserved,
                              self.issued + e.issued)
        if not after.valid():
            raise StockError(
                f"{e.kind} of {e.amount} × {e.sku} in {e.warehouse} is not possible: on hand "
                f"{self.on_hand}, reserved {self.reserved}, issued {self.issued}, available "
                f"{self.available}")
        return after


def positions(entries: Iterable[LedgerEntry]) -> dict[tuple[str, str], StockPosition]:
    """``(warehouse, sku) -> StockPosition`` from the ledger, checking every step."""
    out: dict[tuple[str, str], StockPosition] = {}
    for e in entries:
        key = (e.warehouse, e.sku)
        out[key] = out.get(key, StockPosition()).apply(e)
    return out


def on_hand(entries: Iterable[LedgerEntry]) -> dict[tuple[str, str], int]:
    """``(warehouse, sku) -> quantity`` summed from the ledger."""
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for e in entries:
        totals[(e.warehouse, e.sku)] += e.quantity
    return dict(totals)


def check(position: StockPosition, entries: Sequence[LedgerEntry]) -> StockPosition:
    """Apply ``entries`` (all of one warehouse and SKU) in order; StockError if any breaks
    the invariants."""
    for e in entries:
        position = position.apply(e)
    return position


# -- movement constructors --------------------------------------------------------------------
def movement(kind: str, warehouse: str, sku: str, amount: int, at: datetime, *,
             from_reserved: bool = False, issued: bool = False, **refs) -> LedgerEntry:
    """A ledger entry of ``kind`` moving ``amount`` (> 0) units, signed as the kind says.

    ``from_reserved``: a consumption of reserved parts; ``issued``: of parts (or a release of
    parts) that were issued to an engineer. For ``adjust`` the amount is signed."""
    if kind == ADJUST:
        return LedgerEntry(warehouse, sku, amount, kind, at, **refs)
    if amount < 1:
        raise ValueError(f"a {kind} moves at least one unit; got {amount}")
    q = r = i = 0
    if kind in (RECEIVE, RETURN, TRANSFER_IN):
        q = amount
    elif kind in (TRANSFER_OUT, SCRAP):
        q = -amount
    elif kind == RESERVE:
        r = amount
    elif kind == SHIP:
        i = amount
    elif kind == RELEASE:
        r, i = -amount, (-amount if issued else 0)
    elif kind == CONSUME:
        q = -amount
        if from_reserved or issued:
            r = -amount
        if issued:
            i = -amount
    else:  # pragma: no cover - KINDS is closed
        raise ValueError(kind)
    return LedgerEntry(warehouse, sku, q, kind, at, reserved=r, issued=i, **refs)


def stocktake(position: StockPosition, counted: int) -> int:
    """The adjustment (counted minus booked) that a stocktake of the shelf implies.

    ``counted`` is what is physically on the shelf; parts issued to engineers are not there
    and stay on the books. The count may not leave fewer parts than are reserved."""
    if counted < 0:
        raise ValueError("a count is never negative")
    new_on_hand = counted + position.issued
    if new_on_hand < position.reserved:
        raise StockError(f"counted {counted} but {position.reserved - position.issued} are "
                         f"reserved on the shelf: release those reservations first")
    return new_on_hand - position.on_hand


# -- taking a job's parts ---------------------------------------------------------------------
@dataclass(frozen=True)
class ConsumptionPlan:
    consume: tuple[Line, ...]     # lines that are taken from stock
    shortages: tuple[Line, ...]   # lines that could not be (not enough available): nothing taken

    def entries(self, warehouse: str, at: datetime, ticket_no: str | None,
                event_id: str | None = None) -> list[LedgerEntry]:
        return [LedgerEntry(warehouse=warehouse, sku=line.sku, quantity=-line.quantity,
                            kind=CONSUME, created_at=at, ticket_no=ticket_no,
                            serial_no=line.serial_no, event_id=event_id)
                for line in self.consume]


def plan_consumption(stock: Mapping[str, int], lines: Iterable[Line]) -> ConsumptionPlan:
    """Decide which lines of a job can be taken from a warehouse with ``stock`` available
    (``sku -> available``). Lines are taken whole, in order; a line needing more than what is
    left of its SKU becomes a shortage and takes nothing, so on-hand never goes negative."""
    left = dict(stock)
    consume, short = [], []
    for line in lines:
        if line.quantity < 1:
            raise ValueError(f"line for {line.sku} has quantity {line.quantity}; must be >= 1")
        available = left.get(line.sku, 0)
        if line.quantity <= available:
            left[line.sku] = available - line.quantity
            consume.append(line)
        else:
            short.append(line)
    return ConsumptionPlan(tuple(consume), tuple(short))


@dataclass(frozen=True)
class Hold:
    """What a parts request holds of one SKU in its warehouse: reserved parts still on the
    shelf and reserved parts issued to the engineer."""

    request_id: str
    sku: str
    shelf: int = 0
    issued: int = 0

    @property
    def total(self) -> int:
        return self.shelf + self.issued


@dataclass(frozen=True)
class Take:
    """A portion of a job's line taken from one source."""

    sku: str
    quantity: int
    source: str                      # "issued" | "reserved" | "stock"
    request_id: str | None = None
    serial_no: str | None = None
    line_index: int = 0


@dataclass(frozen=True)
class JobConsumption:
    lines: tuple[Line, ...]
    takes: tuple[Take, ...]
    shortages: tuple[Line, ...]
    leftovers: tuple[Hold, ...]      # what the requests still hold afterwards (unused parts)

    def consumed(self) -> tuple[Line, ...]:
        """One line per job line that took anything: its SKU, quantity taken and serial."""
        out = []
        for index, line in enumerate(self.lines):
            n = sum(t.quantity for t in self.takes if t.line_index == index)
            if n:
                out.append(Line(line.sku, n, line.serial_no))
        return tuple(out)

    def entries(self, warehouse: str, at: datetime, ticket_no: str | None,
                event_id: str | None = None, actor: str | None = None) -> list[LedgerEntry]:
        return [movement(CONSUME, warehouse, t.sku, t.quantity, at,
                         from_reserved=t.source != "stock", issued=t.source == "issued",
                         ticket_no=ticket_no, serial_no=t.serial_no, event_id=event_id,
                         request_id=t.request_id, actor=actor)
                for t in self.takes]


def plan_job_consumption(lines: Sequence[Line], holds: Sequence[Hold],
                         available: Mapping[str, int]) -> JobConsumption:
    """Take the parts a job used: first what the job's parts requests hold (issued parts, then
    reserved parts on the shelf, oldest request first), then free stock (``available``).

    The part of a line that is not held is taken whole from free stock or becomes a shortage
    (nothing taken), so the ledger never goes below zero and never eats into other requests'
    reservations. The line's serial number (the new part's) goes on its first portion."""
    left = [dict(shelf=h.shelf, issued=h.issued) for h in holds]
    free = dict(available)
    takes: list[Take] = []
    shortages: list[Line] = []
    for index, line in enumerate(lines):
        if line.quantity < 1:
            raise ValueError(f"line for {line.sku} has quantity {line.quantity}; must be >= 1")
        remaining = line.quantity
        serial = line.serial_no
        for h, rest in zip(holds, left):
            if h.sku != line.sku:
                continue
            for source, key in (("issued", "issued"), ("reserved", "shelf")):
                n = min(remaining, rest[key])
                if n:
                    takes.append(Take(line.sku, n, source, h.request_id, serial, index))
                    serial = None
                    rest[key] -= n
                    remaining -= n
        if remaining:
            if remaining <= free.get(line.sku, 0):
                free[line.sku] -= remaining
                takes.append(Take(line.sku, remaining, "stock", None, serial, index))
            else:
                shortages.append(Line(line.sku, remaining, serial))
    leftovers = tuple(replace(h, shelf=rest["shelf"], issued=rest["issued"])
                      for h, rest in zip(holds, left) if rest["shelf"] or rest["issued"])
    return JobConsumption(tuple(lines), tuple(takes), tuple(shortages), leftovers)


# -- reorder points -------------------------------------------------------------------------
@dataclass(frozen=True)
class ReorderState:
    """Whether a SKU's available stock in a warehouse is at or below its reorder point."""

    reorder_point: int | None = None
    below: bool = False


def reorder_crossing(state: ReorderState, available: int) -> tuple[ReorderState, bool]:
    """The new state and whether to raise ``reorder_needed``: once when available falls to or
    below the reorder point, and again only after it went above and fell back (a crossing)."""
    if state.reorder_point is None:
        return replace(state, below=False), False
    below = available <= state.reorder_point
    return replace(state, below=below), below and not state.below


def suggested_order(position: StockPosition, reorder_point: int) -> int:
    """A replenishment that brings available back to twice the reorder point (at least 1)."""
    return max(1, 2 * max(reorder_point, 1) - position.available)
