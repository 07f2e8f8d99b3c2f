"""What parts' use cases share: their settings, what they return, new ids, the stock book of
a transaction (the domain's rules, its I/O through the unit of work) and the reorder check
at its end."""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from ..domain import requests as rq
from ..domain.stock import StockBook

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    branches: dict
    auto_approve_limit: Decimal = rq.DEFAULT_AUTO_APPROVE_LIMIT
    transfer_days: int = rq.DEFAULT_TRANSFER_DAYS


@dataclass
class Outcome:
    """What a use case returns: its view, and the backorders it raised (counted in metrics
    once committed)."""

    view: dict | None = None
    backorders: dict[str, int] = field(default_factory=dict)   # branch -> backorders raised


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12].upper()}"


def open_book(uow, now: datetime) -> StockBook:
    """The transaction's stock book (:mod:`..domain.stock`): positions read and movements
    appended through ``uow.ledger``. The SKUs must be locked first."""
    return uow.ledger.book(now)


def finish_book(uow, book: StockBook) -> list[dict]:
    """Check the reorder points of everything the book touched: store each crossing and
    publish ``reorder_needed`` for those that fell to or below their point."""
    touched = book.touched()
    if not touched:
        return []
    parts = uow.catalogue.get_many(sku for _, sku in touched)
    states = {(w, sku): uow.reorder.get(w, sku, parts[sku].reorder_point) for w, sku in touched}
    raised = []
    for check in book.reorder_checks(parts, states):
        if check.after.below != check.before.below:
            uow.reorder.save_below(check.warehouse, check.sku, check.after.below)
        if check.needed:
            data = check.needed
            uow.publish("reorder_needed", data, branch=check.warehouse)
            raised.append(data)
            log.info("reorder needed: %s in %s (available %d, reorder point %d)", check.sku,
                     check.warehouse, data["available"], data["reorder_point"])
    return raised
