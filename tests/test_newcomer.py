"""What a newcomer does first, against the services as real processes: the README's "try it
by hand" example works as written on any day, and `aftersales simulate` can be run again and
again, also while an asset it plays has an open ticket."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.support.data import repair_request
from tests.support.fixtures import auth
from tests.support.processes import ROOT, System

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def system(broker_uri, tmp_path_factory):
    sys_ = System(broker_uri, tmp_path_factory.mktemp("newcomer")).start()
    yield sys_
    sys_.terminate()
    sys_.close()


def readme_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Try it by hand", 1)[1]
    return re.search(r"^```\n(.*?)^```$", section, re.S | re.M).group(1)


def test_the_readme_example_opens_a_ticket_received_now(system):
    commands = {"aftersales": f"{sys.executable} -m aftersales", "python": sys.executable}
    script = re.sub(r"\.venv/bin/(aftersales|python)\b", lambda m: commands[m.group(1)],
                    readme_example()).replace("127.0.0.1:8001", system.address("intake"))
    run = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, env=system.env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    answer, view = (json.loads(line) for line in run.stdout.strip().splitlines()[-2:])
    assert answer["outcome"] == "opened", answer
    assert view["ticket_no"] == answer["ticket_no"] and view["customer"]["contact_name"] == "张伟"
    received = datetime.fromisoformat(view["received_at"].replace("Z", "+00:00"))
    assert abs(datetime.now(timezone.utc) - received) < timedelta(minutes=10), view["received_at"]
    local_day = received.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y%m%d")
    assert view["ticket_no"].startswith(f"SH-{local_day}-")
    assert not any(e["type"] == "sla_breached" for e in view["timeline"]), view["timeline"]


def test_the_simulator_runs_twice_while_an_asset_it_plays_has_an_open_ticket(system):
    now = datetime.now(timezone(timedelta(hours=8))).isoformat(timespec="seconds")
    r = requests.post(system.url("intake", "/api/v1/tickets"), headers=auth("SH"), timeout=10,
                      json=repair_request(received_at=now))     # SH-GJ-2019-0001, left open
    assert r.status_code in (200, 201), r.text
    for run in (1, 2):
        sim = system.cli("simulate", "--tickets", "2", "--timeout", "20")
        assert sim.returncode == 0, (run, sim.stdout + sim.stderr)
        assert "completed: 2" in sim.stdout and "failed: 0" in sim.stdout, (run, sim.stdout)
