"""What every scenario of the suite shares: figures (min/median/max), machine info, the private
RabbitMQ node with one virtual host per scenario, progress lines, and the results files."""
from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results"
_T0 = time.monotonic()


def progress(msg: str) -> None:
    """A progress line (stderr, elapsed time of the whole run first)."""
    print(f"[{time.monotonic() - _T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


def figures(values) -> dict:
    """min/median/max of the repeats (None for an empty list)."""
    vals = [v for v in values if v is not None]
    if not vals:
        return {"min": None, "median": None, "max": None, "n": 0}
    return {"min": round(min(vals), 3), "median": round(statistics.median(vals), 3),
            "max": round(max(vals), 3), "n": len(vals)}


def percentile(values, p: float):
    """The p-th percentile (nearest rank) of ``values``, None when empty."""
    vals = sorted(values)
    if not vals:
        return None
    k = max(0, min(len(vals) - 1, int(round(p / 100 * len(vals) + 0.5)) - 1))
    return vals[k]


def ratio(fig: dict, baseline: dict) -> dict | None:
    """A scenario's min/median/max as fractions of the bare broker's median rate."""
    base = (baseline or {}).get("median")
    if not base or fig.get("median") is None:
        return None
    return {k: round(fig[k] / base, 4) for k in ("min", "median", "max")}


def loadavg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def git_commit() -> str | None:
    try:
        r = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                           text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        return r.stdout.strip() + ("+dirty" if dirty else "") if r.returncode == 0 else None
    except Exception:
        return None


def machine() -> dict:
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) // 1024
    except OSError:
        pass
    return {"cores": os.cpu_count(), "memory_mb": mem, "python": platform.python_version(),
            "platform": platform.platform(), "git_commit": git_commit()}


def vm_rss_mb(pid: int) -> float | None:
    """VmRSS of a process in MB (None when it has gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def write_result(out_dir: Path, name: str, doc: dict) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.json"
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n",
                    encoding="utf-8")
    return path


class Node:
    """The suite's own RabbitMQ node (tests.support.private_broker), never the shared one; each
    scenario gets a fresh virtual host on it. ``uri`` given: use that broker instead (each
    scenario still gets its own vhost when rabbitmqctl can make one)."""

    def __init__(self, uri: str | None = None):
        self.broker = None
        self.base = uri
        self.vhosts: list[str] = []

    def start(self) -> "Node":
        if self.base is None:
            from tests.support.private_broker import PrivateBroker, available
            if not available():
                raise SystemExit("no RabbitMQ server installed (/usr/lib/rabbitmq/bin) for a "
                                 "private node; pass --amqp-uri to use a running broker")
            progress("starting a private RabbitMQ node …")
            self.broker = PrivateBroker().start()
            self.base = self.broker.uri
            progress(f"private node {self.broker.node} on port {self.broker.port}")
        return self

    def vhost(self) -> str:
        from tests.support.broker import uri_with_vhost
        name = f"bench_{uuid.uuid4().hex[:8]}"
        try:
            if self.broker is not None:
                self.broker.ctl("add_vhost", name)
                self.broker.ctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
            else:
                from tests.support.broker import rabbitmqctl
                if not (rabbitmqctl("add_vhost", name)
                        and rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")):
                    return self.base
        except RuntimeError:
            return self.base
        self.vhosts.append(name)
        return uri_with_vhost(self.base, name)

    def drop_vhosts(self) -> None:
        for name in self.vhosts:
            try:
                if self.broker is not None:
                    self.broker.ctl("delete_vhost", name)
                else:
                    from tests.support.broker import rabbitmqctl
                    rabbitmqctl("delete_vhost", name)
            except RuntimeError:
                pass
        self.vhosts.clear()

    def close(self) -> None:
        if self.broker is not None:
            self.broker.close()
        else:
            self.drop_vhosts()
