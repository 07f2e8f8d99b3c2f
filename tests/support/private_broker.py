"""A private RabbitMQ node for tests that restart or kill the broker (never the shared one).

Started from the installed server (``/usr/lib/rabbitmq/bin``, Debian's layout, run directly
as the current user) with its own node name, ports, cookie (``HOME``), data and log
directories, an empty plugin list and an empty ``rabbitmq-env.conf``, so nothing of the shared
node's configuration (its listener on 5672, the management plugin on 15672) applies.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import uuid
from pathlib import Path

from .fixtures import free_port

SBIN = Path("/usr/lib/rabbitmq/bin")


def available() -> bool:
    return (SBIN / "rabbitmq-server").exists() and (SBIN / "rabbitmqctl").exists()


class PrivateBroker:
    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="aftersales-fault-"))
        self.port = free_port()
        self.dist_port = free_port()
        self.node = f"aftersales-fault-{uuid.uuid4().hex[:6]}@localhost"
        (self.dir / "rabbitmq.conf").write_text(
            f"listeners.tcp.local = 127.0.0.1:{self.port}\n"
            "loopback_users = none\n", encoding="utf-8")
        (self.dir / "enabled_plugins").write_text("[].\n", encoding="utf-8")
        (self.dir / "env.conf").write_text("", encoding="utf-8")
        for d in ("mnesia", "log"):
            (self.dir / d).mkdir()
        self.env = {**os.environ, "HOME": str(self.dir), "RABBITMQ_NODENAME": self.node,
                    "RABBITMQ_NODE_PORT": str(self.port),
                    "RABBITMQ_DIST_PORT": str(self.dist_port),
                    "RABBITMQ_CONFIG_FILE": str(self.dir / "rabbitmq.conf"),
                    "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.dir / "enabled_plugins"),
                    "RABBITMQ_CONF_ENV_FILE": str(self.dir / "env.conf"),
                    "RABBITMQ_MNESIA_BASE": str(self.dir / "mnesia"),
                    "RABBITMQ_LOG_BASE": str(self.dir / "log")}

    @property
    def uri(self) -> str:
        return f"pyamqp://guest:guest@127.0.0.1:{self.port}//"

    def ctl(self, *args: str, timeout: float = 90) -> None:
        r = subprocess.run([str(SBIN / "rabbitmqctl"), "-n", self.node, *args], env=self.env,
                           cwd=self.dir, capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {r.stdout}{r.stderr}")

    def diagnostics(self, *args: str) -> str:
        r = subprocess.run([str(SBIN / "rabbitmq-diagnostics"), "-n", self.node, *args],
                           env=self.env, cwd=self.dir, capture_output=True, text=True, timeout=60)
        return r.stdout + r.stderr

    def start(self) -> "PrivateBroker":
        subprocess.run([str(SBIN / "rabbitmq-server"), "-detached"], env=self.env, cwd=self.dir,
                       check=True, capture_output=True, timeout=60)
        self._await_startup()
        return self

    def _await_startup(self) -> None:
        # the detached node registers with epmd a moment after `-detached` returns; until
        # then `await_startup` fails at once ("not running at all"): ask again
        from .waiting import wait_until

        def ready() -> bool:
            try:
                self.ctl("await_startup", "--timeout", "60", timeout=90)
                return True
            except RuntimeError:
                return False
        wait_until(ready, timeout=120, interval=0.5, what=f"the private broker {self.node}")

    def stop_app(self) -> None:
        self.ctl("stop_app")

    def start_app(self) -> None:
        self.ctl("start_app")
        self._await_startup()

    def pid(self) -> int:
        # the VM's command line names its home directory (this node's own), not the node
        r = subprocess.run(["pgrep", "-f", "--", f"-home {self.dir} "], capture_output=True,
                           text=True)
        beam = [int(p) for p in r.stdout.split()
                if Path(f"/proc/{p}/comm").exists() and "beam" in Path(f"/proc/{p}/comm").read_text()]
        if not beam:
            raise RuntimeError(f"no beam process for {self.node}")
        return beam[0]

    def kill9_and_restart(self) -> None:
        """SIGKILL the node's Erlang VM (no clean shutdown), then boot it again on the same
        data directory: durable queues and persistent messages survive."""
        pid = self.pid()
        os.kill(pid, signal.SIGKILL)
        _wait_gone(pid)
        self.start()

    def close(self) -> None:
        try:
            self.ctl("stop", timeout=60)
        except Exception:
            pass
        try:   # whatever is left of this node's VM (e.g. a stop that failed)
            os.kill(self.pid(), signal.SIGKILL)
        except Exception:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


def _wait_gone(pid: int) -> None:
    from .waiting import wait_until
    wait_until(lambda: not Path(f"/proc/{pid}").exists(), timeout=20, what=f"process {pid} to exit")
