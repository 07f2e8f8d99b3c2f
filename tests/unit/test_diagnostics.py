"""``kill -USR2`` on a service: every green thread's stack and the broker sockets, written to
standard error, and the process goes on (aftersales/diagnostics.py)."""
import os
import signal

import eventlet
from eventlet.event import Event

from aftersales import diagnostics


def test_the_dump_names_a_waiting_green_thread_and_the_process_goes_on(capsys):
    started, release = Event(), Event()

    def parked():
        started.send()
        release.wait()
    gt = eventlet.spawn(parked)
    started.wait()                          # it runs, and now waits on ``release``
    previous = signal.getsignal(signal.SIGUSR2)
    diagnostics.install()
    try:
        os.kill(os.getpid(), signal.SIGUSR2)   # the handler runs before the next line
        err = capsys.readouterr().err
    finally:
        signal.signal(signal.SIGUSR2, previous)
        release.send()
        gt.wait()
    assert "green threads" in err and "in parked" in err
    assert "=== sockets" in err and err.rstrip().endswith("=== end")
