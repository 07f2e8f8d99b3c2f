"""``kill -USR2`` on a service: every green thread's stack and the broker sockets, written to
standard error, and the process goes on (aftersales/diagnostics.py)."""
import os
import signal

import eventlet

from aftersales import diagnostics


def test_the_dump_names_a_waiting_green_thread_and_the_process_goes_on(capsys):
    def parked():
        eventlet.sleep(30)
    gt = eventlet.spawn(parked)
    eventlet.sleep(0)                      # let it start and park
    try:
        previous = signal.getsignal(signal.SIGUSR2)
        diagnostics.install()
        try:
            os.kill(os.getpid(), signal.SIGUSR2)
            eventlet.sleep(0)
        finally:
            signal.signal(signal.SIGUSR2, previous)
        err = capsys.readouterr().err
        assert "green threads" in err and "in parked" in err
        assert "=== sockets" in err and err.rstrip().endswith("=== end")
    finally:
        gt.kill()
