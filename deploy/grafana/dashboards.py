"""Generates the Grafana dashboards in deploy/grafana/dashboards/ (a test keeps them current):

    python deploy/grafana/dashboards.py

Every panel uses the provisioned datasource (uid ``prometheus``); every query uses the metric
names fixed in PRODUCT.md and the platform's own (docs/operations.md explains each panel).
"""
from __future__ import annotations

import json
from pathlib import Path

OUT = Path(__file__).resolve().parent / "dashboards"
DS = {"type": "prometheus", "uid": "prometheus"}


def panel(title, exprs, x, y, w=12, h=8, kind="timeseries", unit=None, description=""):
    p = {"title": title, "type": kind, "datasource": DS, "description": description,
         "gridPos": {"x": x, "y": y, "w": w, "h": h},
         "targets": [{"refId": chr(65 + n), "datasource": DS, "expr": e, "legendFormat": legend}
                     for n, (e, legend) in enumerate(exprs)]}
    if unit:
        p["fieldConfig"] = {"defaults": {"unit": unit}, "overrides": []}
    return p


def variable(name, label, query):
    return {"name": name, "label": label, "type": "query", "datasource": DS,
            "query": {"query": query, "refId": name}, "definition": query,
            "includeAll": True, "multi": True, "current": {"text": "All", "value": "$__all"},
            "refresh": 2}


def dashboard(uid, title, panels, variables=()):
    for i, p in enumerate(panels, start=1):
        p["id"] = i
    return {"uid": uid, "title": title, "schemaVersion": 39, "version": 1, "editable": False,
            "tags": ["aftersales"], "time": {"from": "now-24h", "to": "now"}, "refresh": "30s",
            "templating": {"list": list(variables)}, "panels": panels}


SEL = 'branch=~"$branch", priority=~"$priority"'
BRANCH_PRIORITY = [variable("branch", "Branch", "label_values(aftersales_sla_met_total, branch)"),
                   variable("priority", "Priority", "label_values(aftersales_sla_met_total, priority)")]

DASHBOARDS = {
    "service-health": dashboard("aftersales-health", "After-sales · service health", [
        panel("Services up", [('up{job="aftersales"}', "{{service}}")], 0, 0, kind="stat"),
        panel("Broker and database reachable", [("aftersales_broker_up", "broker {{service}}"),
                                                ("aftersales_database_up", "db {{service}}")], 12, 0, kind="stat"),
        panel("Outbox lag (age of the oldest unpublished event)",
              [("aftersales_outbox_lag_seconds", "{{service}}")], 0, 8, unit="s"),
        panel("Parked messages", [("aftersales_parked_messages", "{{service}}")], 12, 8),
        panel("Messages handled by outcome (per minute)",
              [("sum by (service, outcome) (rate(aftersales_messages_handled_total[5m])) * 60",
                "{{service}} {{outcome}}")], 0, 16),
        panel("Handler latency p95",
              [("histogram_quantile(0.95, sum by (le, service) (rate(aftersales_handler_seconds_bucket[5m])))",
                "{{service}}")], 12, 16, unit="s"),
        panel("Requests by outcome (per minute)",
              [("sum by (outcome) (rate(aftersales_requests_total[5m])) * 60", "{{outcome}}")], 0, 24,
              description="Requests received by intake (bus and HTTP): opened, duplicate, rejected."),
        panel("HTTP requests by status (per minute)",
              [("sum by (service, status) (rate(aftersales_http_requests_total[5m])) * 60",
                "{{service}} {{status}}")], 12, 24),
    ]),
    "sla-overview": dashboard("aftersales-sla", "After-sales · SLA overview", [
        panel("SLA adherence by stage (7 days)",
              [(f"sum by (stage) (increase(aftersales_sla_met_total{{{SEL}}}[7d])) / "
                f"(sum by (stage) (increase(aftersales_sla_met_total{{{SEL}}}[7d])) + "
                f"sum by (stage) (increase(aftersales_sla_breached_total{{{SEL}}}[7d])))", "{{stage}}")],
              0, 0, w=24, kind="bargauge", unit="percentunit",
              description="Share of stages met among those met or breached."),
        panel("Adherence by branch and priority (7 days)",
              [(f"sum by (branch, priority) (increase(aftersales_sla_met_total{{{SEL}}}[7d])) / "
                f"(sum by (branch, priority) (increase(aftersales_sla_met_total{{{SEL}}}[7d])) + "
                f"sum by (branch, priority) (increase(aftersales_sla_breached_total{{{SEL}}}[7d])))",
                "{{branch}} {{priority}}")], 0, 8, kind="table", unit="percentunit"),
        panel("Burn rate, 1 h (page at 14.4)",
              [("aftersales:sla_error_ratio:rate1h / 0.05", "{{stage}} {{priority}}")], 12, 8),
        panel("Open tickets at risk (now)",
              [(f"sum by (stage, priority, branch) (aftersales_sla_at_risk{{{SEL}}})",
                "{{branch}} {{priority}} {{stage}}")], 0, 16, kind="table"),
        panel("Breaches (per hour)",
              [(f"sum by (stage, priority) (increase(aftersales_sla_breached_total{{{SEL}}}[1h]))",
                "{{priority}} {{stage}}")], 12, 16),
        panel("Open stages overdue (now)",
              [(f"sum by (stage, priority, branch) (aftersales_sla_overdue{{{SEL}}})",
                "{{branch}} {{priority}} {{stage}}")], 0, 24, w=24, kind="table",
              description="Open SLA stages whose deadline passed (breached, not completed yet): "
                          "who must act now."),
        panel("Stage durations p50 / p90",
              [(f"histogram_quantile(0.5, sum by (le, stage) (rate(aftersales_sla_stage_seconds_bucket{{{SEL}}}[1d])))", "p50 {{stage}}"),
               (f"histogram_quantile(0.9, sum by (le, stage) (rate(aftersales_sla_stage_seconds_bucket{{{SEL}}}[1d])))", "p90 {{stage}}")],
              0, 32, w=24, unit="s"),
    ], BRANCH_PRIORITY),
    "workflow": dashboard("aftersales-workflow", "After-sales · workflow, parts and satisfaction", [
        panel("Requests by outcome (per hour)",
              [("sum by (outcome) (increase(aftersales_requests_total[1h]))", "{{outcome}}")], 0, 0),
        panel("Open tickets by state (the funnel)",
              [("sum by (state) (aftersales_tickets_open)", "{{state}}")], 12, 0, kind="bargauge"),
        panel("Parts stock by branch",
              [("sum by (branch, sku) (aftersales_parts_stock)", "{{branch}} {{sku}}")], 0, 8, kind="table"),
        panel("Backorders (per day)",
              [("sum by (branch) (increase(aftersales_parts_backorders_total[1d]))", "{{branch}}")], 12, 8),
        panel("CSAT: average overall score (7 days)",
              [("sum by (branch) (increase(aftersales_csat_score_sum[7d])) / "
                "sum by (branch) (increase(aftersales_csat_score_count[7d]))", "{{branch}}")], 0, 16, kind="bargauge"),
        panel("Complaints by severity (per day)",
              [("sum by (branch, severity) (increase(aftersales_complaints_total[1d]))",
                "{{branch}} {{severity}}")], 12, 16),
    ]),
}


def render() -> dict[str, str]:
    return {f"{name}.json": json.dumps(d, indent=2, ensure_ascii=False) + "\n"
            for name, d in DASHBOARDS.items()}


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    for filename, text in render().items():
        (OUT / filename).write_text(text, encoding="utf-8")
        print(f"wrote {OUT / filename}")
