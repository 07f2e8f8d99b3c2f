"""Reading a catalogue row (CSV import): every bad column is named.

Pure Python: no framework, database or broker imports.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Mapping

from .model import Part

REQUIRED_COLUMNS = ("sku", "name", "unit", "cost_price", "price")
OPTIONAL_COLUMNS = ("compatible_models", "lead_time_days", "reorder_point", "initial_stock")
SKU_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,39}$")
MODEL_SEPARATORS = re.compile(r"[;；|]")
DEFAULT_LEAD_TIME_DAYS = 14


class RowErrors(ValueError):
    """The row's problems: ``errors`` is a list of ``(column, message)``."""

    def __init__(self, errors: list[tuple[str, str]]):
        super().__init__("; ".join(f"{c}: {m}" for c, m in errors))
        self.errors = errors


def _text(row: Mapping, col: str, errors: list, max_len: int, required: bool = True) -> str:
    value = (row.get(col) or "").strip()
    if required and not value:
        errors.append((col, "is required"))
    elif len(value) > max_len:
        errors.append((col, f"is longer than {max_len} characters"))
    return value


def _money(row: Mapping, col: str, errors: list) -> Decimal:
    raw = (row.get(col) or "").strip()
    if not raw:
        errors.append((col, "is required"))
        return Decimal(0)
    try:
        value = Decimal(raw)
    except InvalidOperation:
        errors.append((col, f"is not a number: {raw!r}"))
        return Decimal(0)
    if not value.is_finite() or value < 0:
        errors.append((col, f"must be zero or more; got {raw!r}"))
    elif value != value.quantize(Decimal("0.01")):
        errors.append((col, f"has more than two decimals: {raw!r}"))
    elif value >= Decimal("1e10"):
        errors.append((col, f"is too large: {raw!r}"))
    return value


def _whole(row: Mapping, col: str, errors: list, default: int | None) -> int | None:
    raw = (row.get(col) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or len(raw) > 7:
        errors.append((col, f"must be a whole number, zero or more; got {raw!r}"))
        return default
    return int(raw)


def parse_row(row: Mapping) -> tuple[Part, int]:
    """One CSV row → (Part, initial stock), or RowErrors naming every bad column."""
    errors: list[tuple[str, str]] = []
    sku = _text(row, "sku", errors, 40)
    if sku and len(sku) <= 40 and not SKU_RE.match(sku):
        errors.append(("sku", f"may hold letters, digits and . _ - / only; got {sku!r}"))
    name = _text(row, "name", errors, 200)
    unit = _text(row, "unit", errors, 20)
    cost = _money(row, "cost_price", errors)
    price = _money(row, "price", errors)
    models_raw = (row.get("compatible_models") or "").strip()
    models = tuple(dict.fromkeys(m.strip() for m in MODEL_SEPARATORS.split(models_raw)
                                 if m.strip()))
    if any(len(m) > 100 for m in models):
        errors.append(("compatible_models", "a model name is longer than 100 characters"))
    lead = _whole(row, "lead_time_days", errors, DEFAULT_LEAD_TIME_DAYS)
    if lead is not None and lead > 365:
        errors.append(("lead_time_days", f"must be at most 365; got {lead}"))
    reorder = _whole(row, "reorder_point", errors, None)
    initial = _whole(row, "initial_stock", errors, 0)
    if errors:
        raise RowErrors(errors)
    return Part(sku=sku, name=name, unit=unit, cost_price=cost, price=price,
                compatible_models=models, lead_time_days=lead, reorder_point=reorder), initial
