"""Prometheus metrics: the spec's fixed names (PRODUCT.md, "Metrics") and the platform's own.

Counters and histograms live in the process-wide registry. Gauges that must survive a restart
(open tickets, at-risk, outbox lag, parked messages) are computed at scrape time from the
service's own database and broker by a per-service collector (see ``ServiceCollector``).
No ticket number, customer or person name is ever a label.
"""
from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from prometheus_client.core import REGISTRY, CollectorRegistry, GaugeMetricFamily

from .contracts.common import CHANNELS, PRIORITIES, SLA_STAGES as STAGES  # noqa: F401 (re-used names)

HOUR = 3600.0
# minutes to days; every SLA target of the spec (1h, 2h, 4h, 12h, 24h, 48h, 72h) is an edge
SLA_BUCKETS = (60, 300, 900, 1800, HOUR, 2 * HOUR, 4 * HOUR, 8 * HOUR, 12 * HOUR, 24 * HOUR,
               48 * HOUR, 72 * HOUR, 120 * HOUR, 168 * HOUR, 336 * HOUR, 720 * HOUR)
OUTCOMES = ("opened", "duplicate", "rejected")

requests_total = Counter(
    "aftersales_requests_total", "Repair requests received by intake, by outcome.",
    ["branch", "channel", "outcome"])
sla_stage_seconds = Histogram(
    "aftersales_sla_stage_seconds", "Time a ticket took to complete an SLA stage.",
    ["stage", "priority", "branch"], buckets=SLA_BUCKETS)
sla_met_total = Counter("aftersales_sla_met_total", "SLA stages completed in time.",
                        ["stage", "priority", "branch"])
sla_breached_total = Counter("aftersales_sla_breached_total", "SLA stages whose deadline passed.",
                             ["stage", "priority", "branch"])
parts_backorders_total = Counter("aftersales_parts_backorders_total", "Parts backorders raised.",
                                 ["branch"])
complaints_total = Counter("aftersales_complaints_total", "Complaints registered.",
                           ["branch", "severity"])
csat_score = Histogram("aftersales_csat_score", "Overall survey scores (1-5).", ["branch"],
                       buckets=(1, 2, 3, 4, 5))

messages_handled_total = Counter(
    "aftersales_messages_handled_total",
    "Messages consumed, by outcome: ok, duplicate (absorbed), retried, parked, transient (kept, tried again).",
    ["service", "queue", "outcome"])
handler_seconds = Histogram(
    "aftersales_handler_seconds", "Time to handle one consumed message.", ["service", "queue"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
outbox_published_total = Counter("aftersales_outbox_published_total",
                                 "Events the outbox relay published (confirmed).", ["service"])
http_requests_total = Counter("aftersales_http_requests_total", "HTTP requests served.",
                              ["service", "method", "route", "status"])


def init_request_series(branches) -> None:
    """Every label combination at zero, so ``rate()`` works from the first scrape."""
    for b in branches:
        for ch in CHANNELS:
            for outcome in OUTCOMES:
                requests_total.labels(b, ch, outcome)


def init_sla_series(branches) -> None:
    for b in branches:
        for s in STAGES:
            for p in PRIORITIES:
                sla_stage_seconds.labels(s, p, b)
                sla_met_total.labels(s, p, b)
                sla_breached_total.labels(s, p, b)


_HANDLED: dict = {}     # (service, queue, outcome) -> (counter child, histogram child)


def message_handled(service: str, queue: str, outcome: str, seconds: float) -> None:
    """Count a handled message and observe its time (the labelled children looked up once
    per label set: ``labels()`` takes a lock and builds a tuple on every call)."""
    key = (service, queue, outcome)
    children = _HANDLED.get(key)
    if children is None:
        children = _HANDLED[key] = (messages_handled_total.labels(service, queue, outcome),
                                    handler_seconds.labels(service, queue))
    children[0].inc()
    children[1].observe(seconds)


class ServiceCollector:
    """Scrape-time gauges of one service. ``gauges`` is a callable returning
    ``[(name, help, labelnames, [(labelvalues, value), ...]), ...]``."""

    def __init__(self, gauges):
        self._gauges = gauges

    def collect(self):
        for name, help_, labelnames, samples in self._gauges():
            fam = GaugeMetricFamily(name, help_, labels=labelnames)
            for labelvalues, value in samples:
                fam.add_metric(list(labelvalues), value)
            yield fam


def exposition(collector: ServiceCollector | None) -> tuple[bytes, str]:
    out = generate_latest(REGISTRY)
    if collector is not None:
        reg = CollectorRegistry(auto_describe=False)
        reg.register(collector)
        out += generate_latest(reg)
    return out, CONTENT_TYPE_LATEST
