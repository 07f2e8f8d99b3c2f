"""The services as real processes (tests.support.processes.System, used as it is) on a fresh
vhost and fresh databases (SQLite files, or PostgreSQL databases made for the run), dispatch
with a roster of 120 imported engineers who can take any job."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from bench.common import progress, vm_rss_mb

# production's defaults, not the tests' short ones (System sets 100,300 ms and 0.2 s)
ENV = {"AFTERSALES_RETRY_DELAYS_MS": "1000,10000,60000", "AFTERSALES_RELAY_INTERVAL": "1.0"}
SKILLS = ("emergency_repair;fault;maintenance;installation;parts;decoration;main_structure;"
          "water_electrical;equipment")


def roster_csv(path: Path, engineers: int, branches=("SH", "HZ", "BJ", "GZ")) -> Path:
    """``engineers`` engineers spread over the branches, every skill, on call, 100 jobs each."""
    lines = ["engineer_id,name,branch,role,skills,active,max_jobs"]
    for i in range(engineers):
        b = branches[i % len(branches)]
        lines.append(f"{b}-B{i:03d},基准工程师{i},{b},engineer,{SKILLS},true,100")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class Stack:
    def __init__(self, uri: str, database: str, services=("intake", "dispatch", "parts", "feedback"),
                 engineers: int = 120):
        from tests.support.processes import System
        self.database, self.services, self.engineers = database, tuple(services), engineers
        self.workdir = Path(tempfile.mkdtemp(prefix="aftersales-bench-"))
        self.system = System(uri, self.workdir, **ENV)
        self.pg = None
        if database == "postgresql":
            from tests.support.fixtures import PgDatabases
            self.pg = PgDatabases()
            for name in ("intake", "dispatch", "parts", "feedback"):
                self.system.env[f"{name.upper()}_DATABASE_URL"] = self.pg.create(f"bench_{name}")

    def url_of(self, service: str) -> str:
        return self.system.env[f"{service.upper()}_DATABASE_URL"]

    def prepare(self) -> "Stack":
        """Migrate and seed every database; import the roster (before anything starts)."""
        r = self.system.cli("seed", "--if-empty", timeout=300)
        if r.returncode != 0:
            raise RuntimeError(f"seed failed: {r.stderr[-2000:]}")
        if "dispatch" in self.services and self.engineers:
            csv = roster_csv(self.workdir / "roster.csv", self.engineers)
            r = self.system.cli("roster", "import", str(csv), timeout=300)
            if r.returncode != 0:
                raise RuntimeError(f"roster import failed: {r.stderr[-2000:]}")
        return self

    def start(self) -> "Stack":
        progress(f"  starting {', '.join(self.services)} ({self.database}) …")
        self.system.start(only=self.services)
        return self

    def rss_mb(self) -> dict:
        return {name: vm_rss_mb(pid) if pid else None for name, pid in self.system.pids().items()}

    def alive(self) -> dict:
        return {name: pid is not None for name, pid in self.system.pids().items()}

    def close(self) -> None:
        try:
            self.system.terminate()
        except Exception:
            pass
        self.system.close()
        if self.pg is not None:
            try:
                self.pg.drop_all()
            except Exception:
                pass
        shutil.rmtree(self.workdir, ignore_errors=True)
