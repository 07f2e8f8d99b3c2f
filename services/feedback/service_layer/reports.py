"""The monthly quality report of a branch (JSON, or CSV rows): a view over the surveys, closed
jobs, SLA stages, diagnoses, parts, complaints, follow-ups and visits of the month."""
from __future__ import annotations

import csv
import io
from datetime import datetime

from aftersales.auth import Principal
from aftersales.contracts.envelope import utcnow
from aftersales.errors import InvalidInput
from aftersales.scoping import branch_for

from ..domain import stats
from .common import Settings


def monthly_report(uow, principal: Principal, settings: Settings, branch: str | None,
                   month: str | None, now: datetime | None = None) -> dict:
    principal.require_role("manager", "dispatcher", "agent")
    b = branch_for(principal, branch, settings.branches)
    tz = settings.tz(b)
    month = month or stats.month_of(now or utcnow(), tz)
    try:
        start, end = stats.month_window(month, tz)
    except ValueError as exc:
        raise InvalidInput([{"field": "month", "message": str(exc)}]) from None
    with uow:
        uow.snapshot()
        return stats.monthly_report(
            b, month, tz=tz, surveys=uow.surveys.in_window(b, start, end),
            jobs=uow.closed_jobs.closed_between(b, start, end), sla=uow.facts.sla(b, start, end),
            causes=uow.facts.causes(b, start, end), parts=uow.facts.parts(b, start, end),
            complaints=uow.complaints.touching(b, start, end),
            follow_ups=uow.follow_ups.opened_between(b, start, end),
            visits=uow.visits.touching(b, start, end))


def report_csv(report: dict) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["branch", "month", "section", "key", "metric", "value"])
    for row in stats.report_rows(report):
        w.writerow(["" if v is None else v for v in row])
    return buf.getvalue()
