"""The services as real processes (`python -m aftersales run <service>`, the command `make run`
uses): they migrate on start, answer /health, log JSON with personal data masked, serve the
simulator end to end, and stop cleanly on SIGTERM."""
from __future__ import annotations

import json
import re

import pytest

from aftersales.registry import SERVICES
from tests.support.processes import System

pytestmark = pytest.mark.e2e


@pytest.fixture
def system(clean_broker, tmp_path):
    sys_ = System(clean_broker, tmp_path).start()
    yield sys_
    sys_.close()


def test_simulator_against_the_running_processes_and_a_clean_stop(system):
    sim = system.cli("simulate", "--tickets", "3", "--timeout", "30")
    assert sim.returncode == 0, sim.stdout + sim.stderr
    assert "[3/3]" in sim.stdout and "completed: 3" in sim.stdout, sim.stdout

    assert system.terminate() == {name: 0 for name in SERVICES}, "a service did not stop cleanly"
    logs = system.logs

    for name, f in logs.items():
        f.seek(0)
        lines = [line for line in f.read().splitlines() if line.startswith("{")]
        assert lines, f"{name} wrote no JSON log lines"
        for line in lines:
            assert json.loads(line)["service"] == name
            # the simulator's customers have 11-digit mobile numbers: none is logged in full
            assert not _has_mobile(line), line
    logs["intake"].seek(0)
    assert "****" in logs["intake"].read()   # it did log the callers, masked
    # a consumer's log lines carry the event and ticket they are about, for correlation
    logs["dispatch"].seek(0)
    docs = [json.loads(line) for line in logs["dispatch"].read().splitlines() if line.startswith("{")]
    assert any(d.get("event_id") and d.get("ticket_no") for d in docs), docs[:5]


def _has_mobile(text: str) -> bool:
    return re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", text) is not None
