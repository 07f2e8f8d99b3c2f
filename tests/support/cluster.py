"""A three-node RabbitMQ cluster on this machine, for tests that kill a node (never the shared
broker).

Each node is a :class:`PrivateBroker` (its own node name, AMQP and distribution ports, data
and log directories); all three share one Erlang cookie (written to each node's ``HOME``
before its first boot), and the second and third join the first
(``stop_app; join_cluster; start_app``). :meth:`Cluster.kill` SIGKILLs one node's Erlang VM
(no clean shutdown, the other nodes see it vanish); :meth:`Cluster.restart` boots it again on
its data directory, where it rejoins the cluster by itself.
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import threading

from .private_broker import SBIN, PrivateBroker, _wait_gone, available  # noqa: F401
from .waiting import wait_until


class Cluster:
    def __init__(self, size: int = 3):
        cookie = secrets.token_hex(20).upper()
        self.nodes = [PrivateBroker() for _ in range(size)]
        for node in self.nodes:
            path = node.dir / ".erlang.cookie"
            path.write_text(cookie, encoding="ascii")
            os.chmod(path, 0o400)

    # -- addresses ------------------------------------------------------------------------
    @property
    def uri(self) -> str:
        """Every node, kombu's failover form (``AMQP_URI`` for the services)."""
        return ";".join(node.uri for node in self.nodes)

    def uri_of(self, i: int) -> str:
        return self.nodes[i].uri

    def uri_without(self, i: int) -> str:
        """Every node but the ``i``-th (the one a test is about to kill)."""
        return ";".join(n.uri for j, n in enumerate(self.nodes) if j != i)

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> "Cluster":
        booting = [threading.Thread(target=node.start) for node in self.nodes]
        for t in booting:
            t.start()
        for t in booting:
            t.join()
        first = self.nodes[0].node
        for node in self.nodes[1:]:
            node.stop_app()
            node.ctl("join_cluster", first)
            node.start_app()
        wait_until(lambda: self.running_nodes(0) == {n.node for n in self.nodes}, timeout=60,
                   what="every node running in the cluster")
        return self

    def running_nodes(self, via: int) -> set[str]:
        """The nodes the ``via``-th node sees running."""
        node = self.nodes[via]
        r = subprocess.run([str(SBIN / "rabbitmqctl"), "-n", node.node, "cluster_status",
                            "--formatter", "json"], env=node.env, cwd=node.dir,
                           capture_output=True, text=True, timeout=60)
        try:
            return set(json.loads(r.stdout)["running_nodes"])
        except (ValueError, KeyError):
            return set()

    def kill(self, i: int) -> None:
        """SIGKILL the ``i``-th node's Erlang VM and wait until the others see it gone."""
        pid = self.nodes[i].pid()
        os.kill(pid, signal.SIGKILL)
        _wait_gone(pid)
        via = next(j for j in range(len(self.nodes)) if j != i)
        wait_until(lambda: self.nodes[i].node not in self.running_nodes(via), timeout=60,
                   what=f"the cluster to see {self.nodes[i].node} down")

    def restart(self, i: int) -> None:
        """Boot the ``i``-th node again on its data; it rejoins the cluster."""
        self.nodes[i].start()
        wait_until(lambda: self.running_nodes(i) == {n.node for n in self.nodes}, timeout=90,
                   what=f"{self.nodes[i].node} back in the cluster")

    def queues(self, via: int, *columns: str) -> list[list[str]]:
        """``rabbitmqctl list_queues`` on the ``via``-th node, one row per queue."""
        r = subprocess.run([str(SBIN / "rabbitmqctl"), "-n", self.nodes[via].node, "-q",
                            "list_queues", "--no-table-headers", *columns],
                           env=self.nodes[via].env, cwd=self.nodes[via].dir,
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"list_queues: {r.stdout}{r.stderr}")
        return [line.split("\t") for line in r.stdout.splitlines() if line.strip()]

    def close(self) -> None:
        for node in reversed(self.nodes):
            node.close()
