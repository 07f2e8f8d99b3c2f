"""Scrape-time gauges from dispatch's tables (``Store(gauges=...)``): open jobs by state,
priority and branch, and the SLA clocks at risk or overdue; every known combination, zeros
included."""
from __future__ import annotations

from datetime import datetime

from aftersales.contracts.envelope import utcnow
from aftersales.reference import branches as known_branches

from ..adapters.repository import JobRepository
from ..adapters.sla_clocks import SlaRepository
from ..domain import clocks as ck
from ..domain.model import OPEN_STATES

PRIORITIES = ("A", "B", "C")


def gauges(session, settings: dict) -> list[tuple]:
    codes = known_branches(settings.get("reference_dir"))
    counts = {(s, p, b): 0 for b in codes for s in OPEN_STATES for p in PRIORITIES}
    for status, prio, branch, n in JobRepository(session).counts_by():
        if status in OPEN_STATES:
            counts[(status, prio, branch)] = n
    return [("aftersales_dispatch_jobs_open", "Open dispatch jobs by state.",
             ["state", "priority", "branch"], sorted(counts.items()))] + \
        sla_gauges(session, settings, codes)


def sla_gauges(session, settings, branches, now: datetime | None = None) -> list[tuple]:
    """Scrape-time gauges from the clocks table: ``aftersales_sla_at_risk`` (open stages past
    the at-risk mark whose deadline has not passed) and ``aftersales_sla_overdue`` (open stages
    past their deadline), every (stage, priority, branch) with zeros."""
    keys = [(s, p, b) for b in branches for s in ck.STAGES for p in PRIORITIES]
    risk = dict.fromkeys(keys, 0)
    over = dict.fromkeys(keys, 0)
    at_risk, overdue = SlaRepository(session).open_counts(now or utcnow())
    for s, p, b, n in at_risk:
        risk[(s, p, b)] = n
    for s, p, b, n in overdue:
        over[(s, p, b)] = n
    return [("aftersales_sla_at_risk", "Open SLA stages past the at-risk mark, deadline not passed.",
             ["stage", "priority", "branch"], sorted(risk.items())),
            ("aftersales_sla_overdue", "Open SLA stages past their deadline (breached, not completed).",
             ["stage", "priority", "branch"], sorted(over.items()))]
