"""Demo reference data for intake: the asset registry (with warranties)."""
from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from aftersales.config import reference_dir

from .adapters.repository import AssetRepository
from .domain.model import AssetRecord


def load_assets_csv(path: Path):
    """Yield (line, AssetRecord | None, error) for every row of an asset CSV."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            try:
                yield line, AssetRecord(
                    serial_no=row["serial_no"].strip(), model=row["model"].strip(),
                    component_category=row["component_category"].strip(),
                    acceptance_date=date.fromisoformat(row["acceptance_date"].strip()),
                    manufacturer_term_months=int(row["manufacturer_term_months"])
                    if row.get("manufacturer_term_months") else None,
                    branch=row.get("branch") or None, customer=row.get("customer") or None,
                    site=row.get("site") or None, project=row.get("project") or None), None
            except (KeyError, ValueError) as exc:
                yield line, None, str(exc)


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
