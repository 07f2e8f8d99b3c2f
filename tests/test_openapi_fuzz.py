"""Schemathesis against the four services as real processes (real broker, SQLite, the demo
data), each driven by its own ``/openapi.json`` with an HQ admin key: no answer is a server
error, every status is one the document lists, every body matches its documented schema and
content type.

The number of cases per route is ``AFTERSALES_FUZZ_EXAMPLES`` (default 10, for CI's budget;
``make fuzz`` runs 200). Schemathesis' reports go to ``var/fuzz/<service>/``."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aftersales.registry import SERVICES
from tests.support.fixtures import key
from tests.support.processes import System

pytestmark = pytest.mark.e2e

CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance")
REPORTS = Path(__file__).resolve().parent.parent / "var" / "fuzz"
# the services whose every route documents its answers (the others are being documented)
DOCUMENTED = {"intake", "dispatch", "parts", "feedback"}


@pytest.fixture(scope="module")
def system(broker_uri, tmp_path_factory):
    sys_ = System(broker_uri, tmp_path_factory.mktemp("fuzz")).start()
    yield sys_
    sys_.close()


def examples() -> int:
    return int(os.environ.get("AFTERSALES_FUZZ_EXAMPLES", "10"))


def schemathesis(system, service: str) -> subprocess.CompletedProcess:
    base = system.url(service)
    reports = REPORTS / service
    reports.mkdir(parents=True, exist_ok=True)
    st = Path(sys.executable).with_name("st")
    return subprocess.run(
        [str(st), "run", f"{base}/openapi.json", "--url", base,
         "-H", f"Authorization: Bearer {key('HQ', 'admin')}",
         "--checks", ",".join(CHECKS), "--max-examples", str(examples()), "--seed", "20261202",
         "--phases", "examples,coverage,fuzzing", "--workers", "1", "--request-timeout", "20",
         "--no-color", "--report", "ndjson", "--report-dir", str(reports)],
        capture_output=True, text=True, timeout=1500, env={**os.environ, "NO_COLOR": "1"},
        cwd=reports)   # its own cache (.schemathesis/) stays under var/


@pytest.mark.timeout(1800)   # make fuzz: 200 cases a route
@pytest.mark.parametrize("service", SERVICES)
def test_the_service_answers_what_its_openapi_document_says(system, service):
    if service not in DOCUMENTED:
        pytest.skip(f"{service}'s routes do not document their answers yet")
    r = schemathesis(system, service)
    summary = "\n".join(r.stdout.splitlines()[-40:])
    assert r.returncode == 0, f"schemathesis found problems in {service}:\n{r.stdout[-20000:]}{r.stderr[-3000:]}"
    assert "No issues found" in r.stdout or "passed" in r.stdout, summary
    # the run really exercised the routes
    events = [json.loads(line) for p in (REPORTS / service).glob("*.ndjson")
              for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert events, summary
