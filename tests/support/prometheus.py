"""A real Prometheus server scraping the services, for end-to-end checks of the metrics."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import requests
import yaml

from .fixtures import free_port
from .waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]


class Prometheus:
    def __init__(self, workdir: Path, targets: dict[str, str], interval: str = "1s"):
        self.exe = shutil.which("prometheus")
        self.port = free_port()
        self.workdir = workdir
        config = {
            "global": {"scrape_interval": interval, "evaluation_interval": interval},
            "rule_files": [str(p) for p in sorted((ROOT / "deploy/prometheus/rules").glob("*.yml"))],
            "scrape_configs": [{
                "job_name": "aftersales",
                "static_configs": [{"targets": [addr], "labels": {"service": name}}
                                   for name, addr in targets.items()]}],
        }
        self.config = workdir / "prometheus.yml"
        self.config.write_text(yaml.safe_dump(config))
        self.proc = None

    def start(self) -> "Prometheus":
        self.log = open(self.workdir / "prometheus.log", "w")
        self.proc = subprocess.Popen(
            [self.exe, f"--config.file={self.config}", f"--storage.tsdb.path={self.workdir / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_until(self._ready, timeout=30, what="Prometheus to be ready")
        return self

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"prometheus exited: {(self.workdir / 'prometheus.log').read_text()[-2000:]}")
        try:
            return requests.get(f"http://127.0.0.1:{self.port}/-/ready", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def query(self, expr: str) -> list[dict]:
        r = requests.get(f"http://127.0.0.1:{self.port}/api/v1/query", params={"query": expr}, timeout=5)
        r.raise_for_status()
        return r.json()["data"]["result"]

    def value(self, expr: str) -> float | None:
        result = self.query(expr)
        return float(result[0]["value"][1]) if result else None

    def wait_value(self, expr: str, expected: float, timeout: float = 30.0) -> None:
        wait_until(lambda: self.value(expr) == expected, timeout=timeout,
                   what=f"Prometheus: {expr} == {expected} (now {self.value(expr)})")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
        self.log.close()
