"""Demo reference data for parts: the catalogue and an initial stock in every branch warehouse."""
from __future__ import annotations

import csv
from decimal import Decimal, InvalidOperation
from pathlib import Path

from aftersales.config import reference_dir
from aftersales.contracts.envelope import utcnow
from aftersales.reference import branches

from .adapters.repository import CatalogueRepository, LedgerRepository
from .domain.model import RECEIVE, LedgerEntry, Part


def load_parts_csv(path: Path):
    """Yield (line, Part | None, initial stock, error) for every row of a parts CSV."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            try:
                part = Part(sku=row["sku"].strip(), name=row["name"].strip(),
                            unit=row["unit"].strip(), cost_price=Decimal(row["cost_price"]),
                            price=Decimal(row["price"]))
                yield line, part, int(row.get("initial_stock") or 0), None
            except (KeyError, ValueError, InvalidOperation) as exc:
                yield line, None, 0, str(exc)


def seed(session, only_if_empty: bool = False) -> str:
    catalogue, ledger = CatalogueRepository(session), LedgerRepository(session)
    if only_if_empty and catalogue.count():
        return "parts catalogue already loaded"
    n_parts = n_received = 0
    now = utcnow()
    for _line, part, initial, _err in load_parts_csv(reference_dir() / "parts.csv"):
        if part is None:
            continue
        catalogue.upsert(part)
        n_parts += 1
        for branch in branches():
            # only a warehouse that never held the part gets its opening stock (re-seed safe)
            if initial > 0 and not ledger.has_entries(branch, part.sku):
                ledger.append(LedgerEntry(warehouse=branch, sku=part.sku, quantity=initial,
                                          kind=RECEIVE, created_at=now))
                n_received += 1
    return f"{n_parts} parts loaded, {n_received} opening stock receipts"
