"""The ``aftersales`` console script works exactly as the README says: ``aftersales run
intake`` serves /health and consumes (it greens the standard library before anything imports
socket or threading, as ``python -m aftersales`` does)."""
from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import requests

from tests.support.broker import publish_request
from tests.support.data import repair_request
from tests.support.fixtures import RECEIVED_MAX_AGE_DAYS, SECRET, free_port
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]


def _entry_point() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["scripts"]["aftersales"]


def _console_script(path: Path) -> Path:
    """The script pip generates for the entry point (its template, verbatim)."""
    module, func = _entry_point().split(":")
    path.write_text(
        f"#!{sys.executable}\n# -*- coding: utf-8 -*-\nimport re\nimport sys\n"
        f"from {module} import {func}\n"
        "if __name__ == '__main__':\n"
        "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
        f"    sys.exit({func}())\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def _serves_and_consumes(script: Path, broker_uri: str, tmp_path: Path, watcher) -> None:
    port = free_port()
    env = {**os.environ, "AMQP_URI": broker_uri, "AFTERSALES_SECRET": SECRET,
           "AFTERSALES_MODE": "development",
           "INTAKE_RECEIVED_MAX_AGE_DAYS": str(RECEIVED_MAX_AGE_DAYS),
           "AFTERSALES_VAR_DIR": str(tmp_path), "INTAKE_HTTP": f"127.0.0.1:{port}",
           "INTAKE_DATABASE_URL": f"sqlite:///{tmp_path / 'intake.db'}",
           "AFTERSALES_RELAY_INTERVAL": "0.2", "PYTHONPATH": str(ROOT)}
    with open(tmp_path / "intake.log", "w+", encoding="utf-8") as log:
        proc = subprocess.Popen([str(script), "run", "intake"], env=env, cwd=ROOT, stdout=log,
                                stderr=subprocess.STDOUT)
        try:
            def healthy():
                assert proc.poll() is None, f"the script exited with {proc.returncode}"
                try:
                    return requests.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
                except requests.RequestException:
                    return False
            wait_until(healthy, timeout=60, what="intake's /health from the console script")
            body = repair_request()
            publish_request(broker_uri, body)
            [opened] = watcher.of_type("ticket_opened", timeout=30, request_id=body["request_id"])
            assert opened["data"]["duplicate"] is False
        finally:
            proc.terminate()
            try:
                code = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)
                code = "no exit after SIGTERM"
        assert code == 0, f"the service did not stop cleanly on SIGTERM: {code}"


def test_the_console_script_runs_a_service_that_serves_health_and_consumes(
        clean_broker, watcher, tmp_path):
    _serves_and_consumes(_console_script(tmp_path / "aftersales"), clean_broker, tmp_path, watcher)


def test_the_installed_console_script_is_the_one_pyproject_declares(clean_broker, watcher, tmp_path):
    installed = {e.name: e.value for e in metadata.entry_points(group="console_scripts")}
    if installed.get("aftersales") != _entry_point():
        pytest.skip(f"the installed script ({installed.get('aftersales')}) predates pyproject.toml "
                    f"({_entry_point()}): `make venv` reinstalls it")
    script = Path(sys.executable).parent / "aftersales"
    _serves_and_consumes(script, clean_broker, tmp_path, watcher)
