"""``kill -USR2 <pid>`` on a running service writes the stack of every green thread to its
standard error (what each consumer, timer and worker is waiting on), for a process that is
alive but no longer doing its work. The process goes on running."""
from __future__ import annotations

import gc
import signal
import sys
import traceback


def green_stacks() -> str:
    import greenlet
    parts = []
    for ob in _alive(greenlet.greenlet):
        if ob.gr_frame is not None:
            parts.append(f"--- green thread {id(ob):#x}\n" + "".join(traceback.format_stack(ob.gr_frame)))
    return f"=== {len(parts)} green threads\n" + "\n".join(parts)


def broker_sockets() -> str:
    """Each AMQP transport of the process: its socket's descriptor, peer, timeout, state."""
    from amqp.transport import _AbstractTransport
    lines = []
    for ob in _alive(_AbstractTransport):
        sock = ob.sock
        try:
            peer = sock.getpeername() if sock is not None else None
        except OSError as exc:
            peer = f"{type(exc).__name__}: {exc}"
        lines.append(f"transport {id(ob):#x} host={ob.host} connected={ob.connected} "
                     f"fd={sock.fileno() if sock is not None else None} peer={peer} "
                     f"timeout={sock.gettimeout() if sock is not None else None}")
    try:
        from eventlet import hubs
        hub = hubs.get_hub()
        lines.append(f"hub {type(hub).__module__}: read fds {sorted(hub.listeners['read'])}, "
                     f"write fds {sorted(hub.listeners['write'])}")
    except Exception as exc:   # diagnostics never fail the process
        lines.append(f"hub: {exc!r}")
    return "\n".join(lines)


def _alive(kind) -> list:
    """The live objects of ``kind`` (a dead weak proxy among gc's objects raises on touch)."""
    found = []
    for ob in gc.get_objects():
        try:
            if isinstance(ob, kind):
                found.append(ob)
        except ReferenceError:
            continue
    return found


def _dump(signum, frame):
    sys.stderr.write(green_stacks() + "=== sockets\n" + broker_sockets() + "\n=== end\n")
    sys.stderr.flush()


def install() -> None:
    signal.signal(signal.SIGUSR2, _dump)
