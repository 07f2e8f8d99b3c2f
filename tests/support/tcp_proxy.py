"""A TCP proxy in its own process, to make a database unreachable and reachable again.

``python -m tests.support.tcp_proxy LISTEN_PORT TARGET_HOST TARGET_PORT`` forwards every
connection. :class:`Proxy` starts it (``up``), and ``cut`` SIGKILLs it: open connections
drop and new ones are refused, as when a database server goes away; ``up`` again restores it
on the same port.
"""
from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from .fixtures import free_port
from .waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]


class Proxy:
    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def _accepting(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def up(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.tcp_proxy", str(self.port), self.target[0],
             str(self.target[1])], cwd=ROOT)
        wait_until(self._accepting, timeout=10, what=f"the proxy on {self.port}")

    def cut(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    close = cut


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(listen_port: int, host: str, port: int) -> None:
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", listen_port))
    server.listen(128)
    while True:
        client, _ = server.accept()
        try:
            upstream = socket.create_connection((host, port), timeout=5)
            upstream.settimeout(None)
        except OSError:
            client.close()
            continue
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=_pipe, args=(a, b), daemon=True).start()


if __name__ == "__main__":
    serve(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]))
