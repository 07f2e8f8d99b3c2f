"""The four services as real processes (`python -m aftersales run <service>`), the way
`make run` starts them, each with its own SQLite database and a free port.

``System(..., instances=2, database_urls={...})`` runs several instances of every service,
each on its own HTTP port, all instances of a service on that service's one database (e.g.
PostgreSQL, ``database_urls``) and sharing its queues. The first instance of a service is
named after it (``"intake"``), the others ``"intake-2"``, ``"intake-3"``...: every method that
takes a name takes such an instance name."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

from aftersales.registry import SERVICES

from .fixtures import RECEIVED_MAX_AGE_DAYS, SECRET, free_port
from .waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]


class System:
    def __init__(self, broker_uri: str, workdir: Path, instances: int = 1,
                 database_urls=None, **extra_env):
        self.env = {**os.environ, "AMQP_URI": broker_uri, "AFTERSALES_SECRET": SECRET,
                    "AFTERSALES_MODE": "development",
                    "AFTERSALES_VAR_DIR": str(workdir), "AFTERSALES_RETRY_DELAYS_MS": "100,300",
                    "AFTERSALES_RELAY_INTERVAL": "0.2", "PYTHONUNBUFFERED": "1",
                    "INTAKE_RECEIVED_MAX_AGE_DAYS": str(RECEIVED_MAX_AGE_DAYS), **extra_env}
        for name in SERVICES:
            self.env[f"{name.upper()}_HTTP"] = f"127.0.0.1:{free_port()}"
            self.env[f"{name.upper()}_DATABASE_URL"] = (
                database_urls[name] if database_urls is not None
                else f"sqlite:///{workdir / (name + '.db')}")
        self.instances = instances
        self.addresses = {name: self.env[f"{name.upper()}_HTTP"] for name in SERVICES}
        for name in SERVICES:
            for n in range(2, instances + 1):
                self.addresses[f"{name}-{n}"] = f"127.0.0.1:{free_port()}"
        self.workdir = workdir
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, object] = {}

    def address(self, name: str) -> str:
        """The HTTP address of a service's first instance (``"intake"``) or of one instance
        (``"intake-2"``)."""
        return self.addresses[name]

    def instance_names(self, service: str) -> list[str]:
        return [service] + [f"{service}-{n}" for n in range(2, self.instances + 1)]

    @staticmethod
    def service_of(name: str) -> str:
        return name.split("-", 1)[0]

    def url(self, name: str, path: str = "") -> str:
        return f"http://{self.address(name)}{path}"

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "aftersales", *args], env=self.env,
                              cwd=ROOT, capture_output=True, text=True, timeout=timeout)

    def start(self, only=SERVICES) -> "System":
        """Seed and start the services (all four, or those named in ``only``)."""
        seed = self.cli("seed", "--if-empty", timeout=120)
        assert seed.returncode == 0, seed.stderr
        # first instances first (each migrates its database at start-up), then the others
        waves = [list(only)] + [[f"{s}-{n}" for s in only] for n in range(2, self.instances + 1)]
        for wave in waves:
            for name in wave:
                self.logs[name] = open(self.workdir / f"{name}.log", "w+", encoding="utf-8")
                self._spawn(name)
            for name in wave:
                self.wait_healthy(name)
        return self

    def _spawn(self, name: str) -> None:
        service = self.service_of(name)
        env = {**self.env, f"{service.upper()}_HTTP": self.addresses[name]}
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "aftersales", "run", service], env=env, cwd=ROOT,
            stdout=self.logs[name], stderr=subprocess.STDOUT)

    def wait_healthy(self, name: str, timeout: float = 60) -> None:
        wait_until(lambda: self._healthy(name), timeout=timeout, what=f"{name} /health")

    def pids(self) -> dict[str, int | None]:
        """Each service's process id, None for one that has exited."""
        return {name: (p.pid if p.poll() is None else None) for name, p in self.procs.items()}

    def kill9(self, name: str) -> int:
        """SIGKILL one service instance (no clean shutdown); its exit code."""
        old = self.procs[name]
        old.kill()
        return old.wait(timeout=30)

    def restart(self, name: str) -> None:
        """Start again an instance that was killed."""
        self._spawn(name)
        self.wait_healthy(name)

    def kill9_and_restart(self, name: str) -> None:
        """SIGKILL one service (no clean shutdown) and start it again."""
        self.kill9(name)
        self.restart(name)

    def _healthy(self, name: str) -> bool:
        proc = self.procs[name]
        if proc.poll() is not None:
            raise AssertionError(f"{name} exited with {proc.returncode}")
        try:
            return requests.get(self.url(name, "/health"), timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def terminate(self) -> dict[str, int]:
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        return {name: p.wait(timeout=30) for name, p in self.procs.items()}

    def close(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.kill()
        for f in self.logs.values():
            f.close()
