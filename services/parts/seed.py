"""Parts' reference data: the catalogue CSV import (``aftersales parts import-catalogue``) and
the demo data (the catalogue and an opening stock in every branch warehouse)."""
from __future__ import annotations

import csv
from pathlib import Path

from aftersales.config import reference_dir
from aftersales.contracts.envelope import utcnow
from aftersales.reference import branches

from .adapters.repository import CatalogueRepository, LedgerRepository
from .domain.catalogue import REQUIRED_COLUMNS, RowErrors, parse_row
from .domain.model import RECEIVE, LedgerEntry


def load_parts_csv(path: Path):
    """Yield ``(line, Part | None, initial stock, errors)`` for every row of a catalogue CSV
    (UTF-8, with or without BOM; columns as in deploy/reference/parts.csv). ``errors`` is a
    list of ``{"column", "message"}``; a SKU seen on an earlier line is an error too.
    ValueError when a required column is missing from the header."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise ValueError(f"{path.name}: missing column(s) {', '.join(missing)}")
        reader.fieldnames = header
        seen: dict[str, int] = {}
        for line, row in enumerate(reader, start=2):
            if None in row:     # more cells than the header has columns
                yield line, None, 0, [{"column": "(row)", "message":
                                       f"has {len(header) + len(row[None])} cells; the header "
                                       f"has {len(header)}"}]
                continue
            try:
                part, initial = parse_row(row)
            except RowErrors as exc:
                yield line, None, 0, [{"column": c, "message": m} for c, m in exc.errors]
                continue
            if part.sku in seen:
                yield line, None, 0, [{"column": "sku", "message":
                                       f"{part.sku} is already on line {seen[part.sku]}"}]
                continue
            seen[part.sku] = line
            yield line, part, initial, []


def import_catalogue(session, path: Path, progress=None, every: int = 500) -> dict:
    """Import (upsert by SKU) every good row of a catalogue CSV; report the bad ones by line
    and column. Stock is not touched (``initial_stock`` is for the demo data only)."""
    repo = CatalogueRepository(session)
    imported, bad, n = 0, [], 0
    for n, (line, part, _initial, errors) in enumerate(load_parts_csv(path), start=1):
        if part is None:
            bad.extend({"line": line, **e} for e in errors)
        else:
            repo.upsert(part)
            imported += 1
        if progress and n % every == 0:
            progress(n, imported, len({b["line"] for b in bad}))
    if progress and n % every:
        progress(n, imported, len({b["line"] for b in bad}))
    return {"rows": n, "imported": imported, "bad_rows": len({b["line"] for b in bad}),
            "errors": bad}


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
                                          kind=RECEIVE, created_at=now, note="opening stock"))
                n_received += 1
    return f"{n_parts} parts loaded, {n_received} opening stock receipts"

