"""End to end with a real Prometheus server scraping the four service processes: a known
scenario is driven and Prometheus' HTTP API must show exactly that."""
from __future__ import annotations

import shutil

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
    prom.wait_value('sum(up{job="aftersales"})', 4)
    prom.wait_value('sum(aftersales_parked_messages)', 1)           # the rejected request
    prom.wait_value('max(aftersales_outbox_lag_seconds)', 0)
    # no personal data or ticket number in any label
    series = requests.get(f"http://127.0.0.1:{prom.port}/api/v1/series",
                          params={"match[]": '{job="aftersales"}'}, timeout=10).json()["data"]
    labels = " ".join(str(v) for s in series for v in s.values())
    assert "13812345678" not in labels and "张伟" not in labels and "-2026" not in labels
