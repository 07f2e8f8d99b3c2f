"""Parts' reports: the monthly ledger of a branch warehouse (JSON and CSV) and the defects
report of returned parts. Read side: each opens its own unit of work."""
from __future__ import annotations

import csv
import io
from datetime import datetime

from aftersales.auth import Principal
from aftersales.errors import InvalidInput
from aftersales.localtime import iso
from aftersales.scoping import branch_for, scope

from ..domain import reports, returns as rma
from .views import entry_view


def ledger_report(uow, principal: Principal, branches: dict, branch: str | None,
                  month: str | None) -> dict:
    """The monthly parts ledger of a branch warehouse (售后物品清单): per SKU the opening and
    closing on hand and what came in and went out, by kind; and every movement of the month.
    The month is the branch's calendar month (its time zone)."""
    warehouse = branch_for(principal, branch, branches)
    if not month:
        raise InvalidInput([{"field": "month", "message": "is required (YYYY-MM)"}])
    tz = branches[warehouse].get("timezone", "Asia/Shanghai")
    try:
        start, end = reports.month_bounds(month, tz)
    except ValueError as exc:
        raise InvalidInput([{"field": "month", "message": str(exc)}]) from None
    with uow:
        uow.snapshot()
        opening = uow.ledger.opening(warehouse, start)
        movements = uow.ledger.between(warehouse, start, end)
        parts = {p.sku: p for p in uow.catalogue.all()}
    lines = reports.monthly_ledger(opening, movements, parts)
    return {"branch": warehouse, "branch_name": branches[warehouse].get("name"), "month": month,
            "timezone": tz, "from": start.isoformat(), "to": end.isoformat(), "currency": "CNY",
            "lines": [line.as_dict() for line in lines], "totals": reports.totals(lines),
            "movements": [entry_view(e) for e in movements]}


def ledger_report_csv(report: dict) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(reports.CSV_HEADER)
    for line in report["lines"]:
        writer.writerow([line[col] for col in reports.CSV_HEADER])
    return "\ufeff" + buf.getvalue()   # BOM: spreadsheet programs then read the UTF-8 names


def defects_report(uow, principal: Principal, branches: dict, branch: str | None,
                   model_name: str | None, since: datetime | None,
                   until: datetime | None) -> dict:
    """Returned parts and QC's decisions per equipment model (design defects for R&D)."""
    where = scope(principal, branch, branches)
    with uow:
        found = uow.returns.search(where, model=model_name or None, since=since, until=until)
    return {"branch": where, "model": model_name or None, "since": iso(since),
            "until": iso(until), "returns": len(found), "models": rma.defect_statistics(found)}
