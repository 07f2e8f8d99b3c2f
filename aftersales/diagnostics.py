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
    for ob in gc.get_objects():
        if isinstance(ob, greenlet.greenlet) and ob.gr_frame is not None:
            parts.append(f"--- green thread {id(ob):#x}\n" + "".join(traceback.format_stack(ob.gr_frame)))
    return f"=== {len(parts)} green threads\n" + "\n".join(parts)


def _dump(signum, frame):
    sys.stderr.write(green_stacks() + "=== end\n")
    sys.stderr.flush()


def install() -> None:
    signal.signal(signal.SIGUSR2, _dump)
