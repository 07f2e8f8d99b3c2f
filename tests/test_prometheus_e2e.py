"""End to end with a real Prometheus server scraping the four service processes: a known
scenario is driven and Prometheus' HTTP API must show exactly that."""
from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone

import pytest
import requests

from tests.support.broker import publish_request
from tests.support.data import repair_request
from tests.support.fixtures import auth
from tests.support.processes import System
from tests.support.prometheus import Prometheus

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not shutil.which("prometheus"),
                                 reason="needs the prometheus server (make test installs it)")]


@pytest.fixture
def monitored(clean_broker, tmp_path):
    system = System(clean_broker, tmp_path).start()
    prom = Prometheus(tmp_path, {name: system.address(name) for name in system.procs}).start()
    yield system, prom
    prom.stop()
    system.close()


def test_request_outcomes_and_open_tickets_as_prometheus_sees_them(monitored):
    system, prom = monitored
    uri = system.env["AMQP_URI"]
    first = repair_request(asset=None)
    publish_request(uri, first)
    publish_request(uri, first)                                    # a duplicate
    publish_request(uri, repair_request(asset=None, channel="wechat"))
    bad = repair_request()
    bad["customer"]["phone"] = "unknown"
    publish_request(uri, bad)                                       # rejected
    r = requests.post(system.url("intake", "/api/v1/tickets"), headers=auth("BJ", "agent"),
                      json=repair_request(branch="BJ", asset=None), timeout=10)
    assert r.status_code == 201

    sel = 'aftersales_requests_total{branch="%s",channel="%s",outcome="%s"}'
    prom.wait_value(sel % ("SH", "phone", "opened"), 1)
    prom.wait_value(sel % ("SH", "phone", "duplicate"), 1)
    prom.wait_value(sel % ("SH", "phone", "rejected"), 1)
    prom.wait_value(sel % ("SH", "wechat", "opened"), 1)
    prom.wait_value(sel % ("BJ", "phone", "opened"), 1)
    prom.wait_value(sel % ("GZ", "email", "opened"), 0)             # present at zero from start-up
    prom.wait_value('sum(aftersales_requests_total)', 5)
    prom.wait_value('sum by (branch) (aftersales_tickets_open{branch="SH"})', 2)
    prom.wait_value('sum(up{job="aftersales"})', len(system.procs))   # every service, the console too
    prom.wait_value('sum(aftersales_parked_messages)', 1)           # the rejected request
    prom.wait_value('max(aftersales_outbox_lag_seconds)', 0)
    # no personal data or ticket number in any label
    series = requests.get(f"http://127.0.0.1:{prom.port}/api/v1/series",
                          params={"match[]": '{job="aftersales"}'}, timeout=10).json()["data"]
    labels = " ".join(str(v) for s in series for v in s.values())
    assert "13812345678" not in labels and "张伟" not in labels and "-2026" not in labels


# A short SLA policy: B's response target is 3 s (it breaches while the test runs); every other
# target is an hour. HZ raises at-risk after 0.1 % of a target (3.6 s of an hour), so its
# ticket has every stage at risk and none breached.
SHORT_SLA = {"targets": {
    "A": {s: {"seconds": 3600} for s in ("response", "dispatch", "arrival", "resolution")},
    "B": {"response": {"seconds": 3}, "dispatch": {"seconds": 3600},
          "arrival": {"seconds": 3600}, "resolution": {"seconds": 3600}}},
    "branches": {"HZ": {"at_risk_fraction": 0.001}}}


@pytest.fixture
def monitored_sla(clean_broker, tmp_path):
    system = System(clean_broker, tmp_path, DISPATCH_SLA_POLICY=json.dumps(SHORT_SLA),
                    DISPATCH_SLA_TIMER_INTERVAL="0.2").start()
    prom = Prometheus(tmp_path, {name: system.address(name) for name in system.procs}).start()
    yield system, prom
    prom.stop()
    system.close()


def _open(system, branch: str, priority: str) -> str:
    body = repair_request(branch=branch, asset=None, priority=priority,
                          received_at=datetime.now(timezone.utc).isoformat())
    r = requests.post(system.url("intake", "/api/v1/tickets"), headers=auth(branch, "agent"),
                      json=body, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()["ticket_no"]


def test_sla_stages_met_breached_and_at_risk_as_prometheus_sees_them(monitored_sla):
    """SH/A: the agent calls the customer at once (response met). SH/B: nobody calls (response
    breached after 3 s, escalated). HZ/A: every stage past its at-risk mark, none breached."""
    system, prom = monitored_sla
    met = _open(system, "SH", "A")
    _open(system, "SH", "B")
    _open(system, "HZ", "A")
    r = requests.post(system.url("intake", f"/api/v1/tickets/{met}/contact"),
                      headers=auth("SH", "agent"), json={"channel": "phone"}, timeout=10)
    assert r.status_code == 200, r.text

    sla = '%s{stage="%s",priority="%s",branch="%s"}'
    prom.wait_value(sla % ("aftersales_sla_met_total", "response", "A", "SH"), 1)
    prom.wait_value(sla % ("aftersales_sla_stage_seconds_count", "response", "A", "SH"), 1)
    # the contact came within seconds: it falls in the first bucket (one minute)
    prom.wait_value('aftersales_sla_stage_seconds_bucket{stage="response",priority="A",'
                    'branch="SH",le="60.0"}', 1)
    prom.wait_value(sla % ("aftersales_sla_breached_total", "response", "B", "SH"), 1)
    prom.wait_value(sla % ("aftersales_sla_overdue", "response", "B", "SH"), 1)
    prom.wait_value('count(aftersales_sla_at_risk{branch="HZ",priority="A"} == 1)', 4)
    # exactly that, nothing else
    prom.wait_value('sum(aftersales_sla_met_total)', 1)
    prom.wait_value('sum(aftersales_sla_breached_total)', 1)
    prom.wait_value('sum(aftersales_sla_overdue)', 1)
    prom.wait_value('sum(aftersales_sla_at_risk)', 4)
    prom.wait_value('sum(aftersales_sla_stage_seconds_count)', 1)
    # every branch x priority x stage series exists from start-up, at zero where nothing happened
    prom.wait_value(sla % ("aftersales_sla_breached_total", "resolution", "C", "GZ"), 0)
    prom.wait_value('count(aftersales_sla_met_total)', 4 * 3 * 4)
    # the breach of a B ticket pages nobody as a priority-A breach would
    assert prom.value('ALERTS{alertname="AftersalesPriorityABreached"}') is None
