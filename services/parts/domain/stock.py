"""The stock book of one transaction: the positions it read, the movements it posts and the
reorder points they crossed.

Pure Python: the book reads a position through ``load(warehouse, sku)`` and records an entry
through ``record(entry)``; the ledger repository provides both (``LedgerRepository.book``), so
the rules live here and the I/O there.

Every movement is checked against the ledger's invariants (``0 <= issued <= reserved <= on
hand``, :meth:`StockPosition.apply`) before it is recorded; a movement that would break them
raises :class:`StockError` and records nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable, Mapping

from .model import (Hold, LedgerEntry, Part, ReorderState, StockPosition, reorder_crossing,
                    suggested_order)

Key = tuple[str, str]     # (warehouse, sku)


@dataclass(frozen=True)
class ReorderCheck:
    """One warehouse and SKU the book touched, checked against its reorder point: the state
    before and after, and the ``reorder_needed`` data when the point was crossed."""

    warehouse: str
    sku: str
    before: ReorderState
    after: ReorderState
    needed: dict | None = None


class StockBook:
    """Posts ledger entries checked against the invariants and, at the end, tells which
    warehouse and SKU crossed its reorder point. The SKUs must be locked before use."""

    def __init__(self, now: datetime, load: Callable[[str, str], StockPosition],
                 record: Callable[[LedgerEntry], None]):
        self.now = now
        self._load = load
        self._record = record
        self._positions: dict[Key, StockPosition] = {}
        self._touched: list[Key] = []

    def position(self, warehouse: str, sku: str) -> StockPosition:
        key = (warehouse, sku)
        if key not in self._positions:
            self._positions[key] = self._load(warehouse, sku)
        return self._positions[key]

    def available(self, warehouse: str, skus) -> dict[str, int]:
        return {sku: self.position(warehouse, sku).available for sku in skus}

    def touch(self, warehouse: str, sku: str) -> None:
        """Check this pair's reorder point at the end even though nothing moved."""
        self.position(warehouse, sku)
        if (warehouse, sku) not in self._touched:
            self._touched.append((warehouse, sku))

    def post(self, entry: LedgerEntry) -> StockPosition:
        key = (entry.warehouse, entry.sku)
        after = self.position(*key).apply(entry)       # StockError if not possible
        self._record(entry)
        self._positions[key] = after
        if key not in self._touched:
            self._touched.append(key)
        return after

    def touched(self) -> list[Key]:
        return sorted(self._touched)

    def reorder_checks(self, parts: Mapping[str, Part],
                       states: Mapping[Key, ReorderState]) -> list[ReorderCheck]:
        """Every touched pair against its reorder point (``states``: each pair's state as
        stored); the touched list starts again empty."""
        checks = []
        for warehouse, sku in self.touched():
            part = parts[sku]
            state = states[(warehouse, sku)]
            pos = self._positions[(warehouse, sku)]
            new, fire = reorder_crossing(state, pos.available)
            needed = None
            if fire:
                needed = {"warehouse": warehouse, "sku": sku, "name": part.name,
                          "on_hand": pos.on_hand, "reserved": pos.reserved,
                          "available": pos.available, "reorder_point": new.reorder_point,
                          "suggested_quantity": suggested_order(pos, new.reorder_point),
                          "lead_time_days": part.lead_time_days}
            checks.append(ReorderCheck(warehouse, sku, state, new, needed))
        self._touched = []
        return checks


def holds(sums: Iterable[tuple[str, str, int, int]], request_ids: list[str]) -> list[Hold]:
    """What each request holds, from the ledger's sums per request and SKU (``request_id,
    sku, Σ reserved, Σ issued``): reserved parts on the shelf and issued; a SKU whose
    reservation was lifted holds nothing. In the order of ``request_ids``, then by SKU."""
    by_req: dict[str, list[Hold]] = {}
    for rid, sku, reserved, issued in sums:
        reserved, issued = int(reserved), int(issued)
        if reserved:
            by_req.setdefault(rid, []).append(Hold(rid, sku, shelf=reserved - issued,
                                                   issued=issued))
    return [h for rid in request_ids for h in sorted(by_req.get(rid, []), key=lambda h: h.sku)]
