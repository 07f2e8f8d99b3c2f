"""The benchmark suite end to end at tiny sizes (``--quick``: 50 requests, one repeat,
SQLite, its own private RabbitMQ node): every scenario writes its JSON with the expected keys
and the summary is written. No figure is checked (speed is what the suite measures, not
what a test asserts)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.private_broker import available

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ("intake", "full", "paced", "storm", "sla", "stored")


@pytest.mark.timeout(480)   # ~1.5 min idle; several minutes on the shared, loaded machine
@pytest.mark.skipif(not available(), reason="needs the RabbitMQ server for a private node")
def test_quick_suite_writes_every_result_and_the_summary(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "suite.py"), "--quick",
                        "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr[-4000:]
    assert "| what | db | today |" in r.stdout
    for name in SCENARIOS:
        doc = json.loads((tmp_path / f"{name}.json").read_text(encoding="utf-8"))
        assert doc["scenario"] == name
        assert {"cores", "git_commit"} <= set(doc["machine"])
        d = doc["databases"]["sqlite"]
        assert "error" not in d, d.get("error")
        assert {"load_before", "load_after", "baseline"} <= set(d)
        assert {"min", "median", "max"} <= set(d["baseline"]["msg_per_s"])
    docs = {n: json.loads((tmp_path / f"{n}.json").read_text())["databases"]["sqlite"]
            for n in SCENARIOS}
    assert {"runs", "tickets_per_s", "complete"} <= set(docs["intake"])
    assert {"runs", "assigned_per_s"} <= set(docs["full"])
    assert {"latency_s", "assigned_during_window_per_s", "integrity"} <= set(
        next(iter(docs["paced"]["rates"].values())))
    assert {"seconds_to_all_opened", "seconds_to_all_assigned", "integrity",
            "rss_mb_after"} <= set(docs["storm"])
    assert set(docs["storm"]["integrity"]) >= {"lost", "doubled_requests", "doubled_ticket_no"}
    assert {"ticks", "backlog", "breach"} <= set(docs["sla"])
    assert {"tick_ms", "raise_due_ms"} <= set(docs["sla"]["ticks"][0])
    assert "tickets_per_s" in next(iter(docs["stored"]["stored"].values()))
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    for row in ("intake alone", "full path", "paced", "requests at once", "RSS per service",
                "SLA timer tick", "backlog of", "breach seen", "tickets stored"):
        assert row in summary, row
