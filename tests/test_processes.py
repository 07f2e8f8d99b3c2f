"""The services as real processes (`python -m aftersales run <service>`, the command `make run`
uses): they migrate on start, answer /health, log JSON with personal data masked, serve the
simulator end to end, and stop cleanly on SIGTERM."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from aftersales.registry import SERVICES
from tests.support.fixtures import SECRET, free_port
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def system(clean_broker, tmp_path):
    env = {**os.environ, "AMQP_URI": clean_broker, "AFTERSALES_SECRET": SECRET,
           "AFTERSALES_VAR_DIR": str(tmp_path), "AFTERSALES_RETRY_DELAYS_MS": "100,300",
           "AFTERSALES_RELAY_INTERVAL": "0.2", "PYTHONUNBUFFERED": "1"}
    for name in SERVICES:
        env[f"{name.upper()}_HTTP"] = f"127.0.0.1:{free_port()}"
        env[f"{name.upper()}_DATABASE_URL"] = f"sqlite:///{tmp_path / (name + '.db')}"
    seed = subprocess.run([sys.executable, "-m", "aftersales", "seed", "--if-empty"], env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert seed.returncode == 0, seed.stderr
    procs, logs = {}, {}
    for name in SERVICES:
        logs[name] = open(tmp_path / f"{name}.log", "w+", encoding="utf-8")
        procs[name] = subprocess.Popen([sys.executable, "-m", "aftersales", "run", name],
                                       env=env, cwd=ROOT, stdout=logs[name],
                                       stderr=subprocess.STDOUT)
    try:
        for name in SERVICES:
            url = f"http://{env[name.upper() + '_HTTP']}/health"
            wait_until(lambda: _healthy(url, procs[name]), timeout=60, what=f"{name} /health")
        yield env, procs, logs
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
        for f in logs.values():
            f.close()


def _healthy(url, proc):
    if proc.poll() is not None:
        raise AssertionError(f"service exited with {proc.returncode}")
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_simulator_against_the_running_processes_and_a_clean_stop(system):
    env, procs, logs = system
    sim = subprocess.run([sys.executable, "-m", "aftersales", "simulate", "--tickets", "3",
                          "--timeout", "30"], env=env, cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert sim.returncode == 0, sim.stdout + sim.stderr
    assert "[3/3]" in sim.stdout and "completed: 3" in sim.stdout, sim.stdout

    for p in procs.values():
        p.send_signal(signal.SIGTERM)
    for name, p in procs.items():
        assert p.wait(timeout=30) == 0, f"{name} did not stop cleanly"

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
    import re
    return re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", text) is not None
