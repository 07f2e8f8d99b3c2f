"""Demo reference data for intake: the asset registry (with warranties)."""
from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from aftersales.config import reference_dir

from .adapters.repository import AssetRepository
from .domain.model import AssetRecord


ASSET_COLUMNS = ("serial_no", "model", "component_category", "acceptance_date",
                 "manufacturer_term_months", "branch", "customer", "site", "project")
COMPONENT_CATEGORIES = ("main_structure", "water_electrical", "decoration", "equipment", "other",
                        "replaced_part")


def parse_asset_row(row: dict) -> AssetRecord:
    """One CSV row → AssetRecord, or ValueError naming the column."""
    def req(col):
        value = (row.get(col) or "").strip()
        if not value:
            raise ValueError(f"{col}: is required")
        return value

    category = req("component_category")
    if category not in COMPONENT_CATEGORIES:
        raise ValueError(f"component_category: must be one of {', '.join(COMPONENT_CATEGORIES)}; "
                         f"got {category!r}")
    try:
        accepted = date.fromisoformat(req("acceptance_date"))
    except ValueError as exc:
        if "is required" in str(exc):
            raise
        raise ValueError(f"acceptance_date: not a date (YYYY-MM-DD): {row.get('acceptance_date')!r}") from None
    term_raw = (row.get("manufacturer_term_months") or "").strip()
    term = None
    if term_raw:
        if not term_raw.isdigit() or int(term_raw) <= 0:
            raise ValueError(f"manufacturer_term_months: must be a positive whole number; got {term_raw!r}")
        term = int(term_raw)
    if category == "equipment" and term is None:
        raise ValueError("manufacturer_term_months: is required for equipment")
    return AssetRecord(serial_no=req("serial_no"), model=req("model"), component_category=category,
                       acceptance_date=accepted, manufacturer_term_months=term,
                       branch=(row.get("branch") or "").strip() or None,
                       customer=(row.get("customer") or "").strip() or None,
                       site=(row.get("site") or "").strip() or None,
                       project=(row.get("project") or "").strip() or None)


def load_assets_csv(path: Path):
    """Yield (line, AssetRecord | None, error) for every row of an asset CSV (UTF-8, with or
    without BOM; columns as in deploy/reference/assets.csv)."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in ("serial_no", "model", "component_category", "acceptance_date")
                   if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path.name}: missing column(s) {', '.join(missing)}")
        for line, row in enumerate(reader, start=2):
            try:
                yield line, parse_asset_row(row), None
            except ValueError as exc:
                yield line, None, str(exc)


def import_assets(session, path: Path, progress=None, every: int = 500) -> dict:
    """Import (upsert) every good row; report the bad ones with their line and reason."""
    repo = AssetRepository(session)
    imported, bad = 0, []
    for n, (line, asset, error) in enumerate(load_assets_csv(path), start=1):
        if asset is None:
            bad.append({"line": line, "error": error})
        else:
            repo.upsert(asset)
            imported += 1
        if progress and n % every == 0:
            progress(n, imported, len(bad))
    return {"imported": imported, "bad_rows": bad}


def seed(session, only_if_empty: bool = False) -> str:
    repo = AssetRepository(session)
    if only_if_empty and repo.count():
        return "assets already loaded"
    n = 0
    for _line, asset, _err in load_assets_csv(reference_dir() / "assets.csv"):
        if asset:
            repo.upsert(asset)
            n += 1
    return f"{n} assets loaded"
