"""Parts' domain: the catalogue, the stock ledger and how a job's parts are taken from stock.

Pure Python: no framework, database or broker imports.

Stock is never stored as a number that gets overwritten: every movement is an immutable
ledger entry (a signed quantity per warehouse and SKU) and on-hand is the sum of the entries.
A warehouse is a branch's store and is named by the branch code (``SH``, ``HZ`` ...).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Iterable, Mapping

# Kinds of ledger movement. Only ``receive`` and ``consume`` are written so far; the others
# are reserved for reservations, transfers between branches and RMA returns.
RECEIVE = "receive"
CONSUME = "consume"
KINDS = (RECEIVE, CONSUME, "adjust", "transfer_in", "transfer_out", "return", "scrap")
INBOUND_KINDS = {RECEIVE, "transfer_in", "return"}      # quantity > 0
OUTBOUND_KINDS = {CONSUME, "transfer_out", "scrap"}     # quantity < 0


@dataclass(frozen=True)
class Part:
    """A catalogue entry. Prices are in CNY (元)."""

    sku: str
    name: str
    unit: str
    cost_price: Decimal
    price: Decimal


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
    quantity: int               # signed: + into the warehouse, - out of it
    kind: str
    created_at: datetime
    ticket_no: str | None = None
    serial_no: str | None = None
    event_id: str | None = None  # the event that caused the movement, if any

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown ledger kind {self.kind!r}; one of {', '.join(KINDS)}")
        if self.quantity == 0:
            raise ValueError("a ledger entry moves a non-zero quantity")
        if self.kind in INBOUND_KINDS and self.quantity < 0:
            raise ValueError(f"a {self.kind} entry must have a positive quantity")
        if self.kind in OUTBOUND_KINDS and self.quantity > 0:
            raise ValueError(f"a {self.kind} entry must have a negative quantity")


def on_hand(entries: Iterable[LedgerEntry]) -> dict[tuple[str, str], int]:
    """``(warehouse, sku) -> quantity`` summed from the ledger."""
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for e in entries:
        totals[(e.warehouse, e.sku)] += e.quantity
    return dict(totals)


@dataclass(frozen=True)
class ConsumptionPlan:
    consume: tuple[Line, ...]     # lines that are taken from stock
    shortages: tuple[Line, ...]   # lines that could not be (not enough on hand): nothing taken

    def entries(self, warehouse: str, at: datetime, ticket_no: str | None,
                event_id: str | None = None) -> list[LedgerEntry]:
        return [LedgerEntry(warehouse=warehouse, sku=line.sku, quantity=-line.quantity,
                            kind=CONSUME, created_at=at, ticket_no=ticket_no,
                            serial_no=line.serial_no, event_id=event_id)
                for line in self.consume]


def plan_consumption(stock: Mapping[str, int], lines: Iterable[Line]) -> ConsumptionPlan:
    """Decide which lines of a job can be taken from a warehouse holding ``stock``
    (``sku -> on hand``). Lines are taken whole, in order; a line needing more than what is
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
