"""The monthly parts ledger of a branch (售后物品清单), computed from the stock ledger.

Pure Python: no framework, database or broker imports.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Iterable, Mapping

from aftersales.localtime import month_window

from .model import (ADJUST, CONSUME, RECEIVE, RETURN, SCRAP, TRANSFER_IN, TRANSFER_OUT,
                    LedgerEntry, Part, money)

# on-hand columns of the report, in order; reserve/release/ship do not change on hand
COLUMNS = (("received", RECEIVE), ("transferred_in", TRANSFER_IN), ("returned", RETURN),
           ("consumed", CONSUME), ("transferred_out", TRANSFER_OUT), ("scrapped", SCRAP),
           ("adjusted", ADJUST))


def month_bounds(month: str, tz: str) -> tuple[datetime, datetime]:
    """``YYYY-MM`` in the branch's time zone → [start, end) in UTC. ValueError if malformed."""
    start, end = month_window(month, tz)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


@dataclass(frozen=True)
class MonthLine:
    sku: str
    name: str
    unit: str
    opening: int
    received: int
    transferred_in: int
    returned: int
    consumed: int          # negative figures are shown as positive quantities out
    transferred_out: int
    scrapped: int
    adjusted: int          # signed
    closing: int
    cost_price: Decimal

    @property
    def consumed_value(self) -> Decimal:
        return money(self.cost_price * self.consumed)

    @property
    def closing_value(self) -> Decimal:
        return money(self.cost_price * self.closing)

    def as_dict(self) -> dict:
        return {"sku": self.sku, "name": self.name, "unit": self.unit, "opening": self.opening,
                "received": self.received, "transferred_in": self.transferred_in,
                "returned": self.returned, "consumed": self.consumed,
                "transferred_out": self.transferred_out, "scrapped": self.scrapped,
                "adjusted": self.adjusted, "closing": self.closing,
                "cost_price": str(self.cost_price), "consumed_value": str(self.consumed_value),
                "closing_value": str(self.closing_value)}


CSV_HEADER = ("sku", "name", "unit", "opening", "received", "transferred_in", "returned",
              "consumed", "transferred_out", "scrapped", "adjusted", "closing", "cost_price",
              "consumed_value", "closing_value")


def monthly_ledger(opening: Mapping[str, int], movements: Iterable[LedgerEntry],
                   parts: Mapping[str, Part]) -> list[MonthLine]:
    """One line per SKU that had stock at the start of the month or moved during it:
    opening on hand, what came in and went out by kind, closing on hand (opening plus the
    month's movements). ``movements`` are the month's entries of one warehouse."""
    sums: dict[str, dict[str, int]] = {}
    for e in movements:
        if e.quantity:
            kinds = sums.setdefault(e.sku, {})
            kinds[e.kind] = kinds.get(e.kind, 0) + e.quantity
    out = []
    for sku in sorted(set(sku for sku, n in opening.items() if n) | set(sums)):
        kinds = sums.get(sku, {})
        figures = {col: kinds.get(kind, 0) for col, kind in COLUMNS}
        for col in ("consumed", "transferred_out", "scrapped"):
            figures[col] = -figures[col]
        start = opening.get(sku, 0)
        closing = start + sum(kinds.values())
        part = parts.get(sku)
        out.append(MonthLine(sku=sku, name=part.name if part else sku,
                             unit=part.unit if part else "", opening=start, closing=closing,
                             cost_price=money(part.cost_price if part else 0), **figures))
    return out


def totals(lines: Iterable[MonthLine]) -> dict:
    lines = list(lines)
    return {"consumed_value": str(money(sum((l.consumed_value for l in lines), Decimal(0)))),
            "closing_value": str(money(sum((l.closing_value for l in lines), Decimal(0))))}
