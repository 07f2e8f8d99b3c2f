"""Live updates and the dispatch board with intake, dispatch and the console as real processes
(`aftersales run`): a dispatcher's open ``/console/live`` stream gets ``ticket_opened`` and
``engineer_assigned`` of a new SH ticket within 2 s, an HZ user's stream does not; the board
lists the SH job for SH and not for HZ; a job is reassigned through the console (CSRF) and
the page shows the ranking and its explanation."""
from __future__ import annotations

import json
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime

import pytest
import requests

from services.console.service_layer.users import DEMO_PASSWORD
from tests.support.data import repair_request
from tests.support.fixtures import auth
from tests.support.processes import ROOT, System
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e
LIVE_WITHIN_S = 2.0


@pytest.fixture(scope="module")
def system(tmp_path_factory, broker_uri):
    # the session's own virtual host: another run's dispatch on shared queues would take
    # this run's tickets (competing consumers), and its events would reach these streams
    sys_ = System(broker_uri, tmp_path_factory.mktemp("board"),
                  CONSOLE_LIVE_HEARTBEAT_S="0.5").start(
        only=("intake", "dispatch", "console"))
    for args in (("users", "demo"),
                 ("users", "add", "hz-dispatcher", "--name", "杭州派工员", "--branch", "HZ",
                  "--role", "dispatcher", "--password-stdin"),
                 ("users", "add", "hq-manager", "--name", "总部主管", "--branch", "HQ",
                  "--role", "manager", "--password-stdin")):
        done = _cli_with_stdin(sys_, args, DEMO_PASSWORD + "\n")
        assert done.returncode == 0, done.stderr
    yield sys_
    sys_.close()


def _cli_with_stdin(system, args, text):
    return subprocess.run([sys.executable, "-m", "aftersales", *args], env=system.env,
                          cwd=ROOT, capture_output=True, text=True, timeout=120, input=text)


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _login(system, login) -> requests.Session:
    s = requests.Session()
    form = s.get(system.url("console", "/console/login"), timeout=10)
    resp = s.post(system.url("console", "/console/login"), timeout=10, allow_redirects=False,
                  data={"login": login, "password": DEMO_PASSWORD, "csrf": _csrf(form.text)})
    assert resp.status_code == 303, resp.text
    return s


class Stream:
    """An open ``/console/live`` of one user, read by a thread into a queue of
    (received at, event name, data)."""

    def __init__(self, system, session: requests.Session, params=None):
        self.resp = session.get(system.url("console", "/console/live"), params=params,
                                stream=True, timeout=(5, 60))
        assert self.resp.status_code == 200
        assert self.resp.headers["Content-Type"].startswith("text/event-stream")
        self.comments: queue.Queue[str] = queue.Queue()
        self.events: queue.Queue[tuple[float, str, dict]] = queue.Queue()
        self.seen: list[tuple[str, dict]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        name = None
        try:
            for line in self.resp.iter_lines(chunk_size=1, decode_unicode=True):
                if line.startswith(":"):
                    self.comments.put(line)
                elif line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    self.events.put((time.time(), name, json.loads(line[6:])))
        except (OSError, ValueError, requests.RequestException):   # hung up by the test
            pass

    def hello(self) -> str:
        return self.comments.get(timeout=10)

    def wait_for(self, type_, ticket_no, timeout=10.0) -> tuple[float, dict]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {type_} of {ticket_no} in {timeout}s; saw {self.seen}")
            try:
                at, name, data = self.events.get(timeout=left)
            except queue.Empty:
                continue
            self.seen.append((name, data))
            if name == type_ and data.get("ticket_no") == ticket_no:
                return at, data

    def close(self):
        """Hang up (the reading thread is inside a read: shut the socket down under it)."""
        conn = getattr(self.resp.raw, "_connection", None)
        sock = getattr(conn, "sock", None)
        try:
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
            self.resp.close()
        except (OSError, RuntimeError):
            pass


def _open_ready(system, session, params=None) -> Stream:
    """A stream opened once the console hears the bus (its hello says so)."""
    def attempt():
        st = Stream(system, session, params)
        if "bus ready" in st.hello():
            return st
        st.close()
        return None
    return wait_until(attempt, timeout=20, what="the console's live consumer")


def _file_ticket(system, branch="SH") -> str:
    resp = requests.post(system.url("intake", "/api/v1/tickets"),
                         json=repair_request(branch=branch), headers=auth(branch, "agent"),
                         timeout=10)
    assert resp.status_code == 201, resp.text
    return resp.json()["ticket_no"]


@pytest.fixture(scope="module")
def live_ticket(system):
    """A new SH ticket filed while an SH dispatcher, an HZ agent and HQ have the stream open:
    what each stream got, and how long after the publish."""
    sh, hz, hq = (_open_ready(system, _login(system, who))
                  for who in ("sh-dispatcher", "hz-agent", "hq-manager"))
    try:
        started = time.time()
        ticket_no = _file_ticket(system)
        opened_at, opened = sh.wait_for("ticket_opened", ticket_no)
        assigned_at, assigned = sh.wait_for("engineer_assigned", ticket_no)
        hq_at, _ = hq.wait_for("engineer_assigned", ticket_no)
        # then an HZ ticket: the HZ stream gets it, and nothing of SH before it
        hz_ticket = _file_ticket(system, "HZ")
        hz.wait_for("ticket_opened", hz_ticket)
        hz_got = list(hz.seen)
    finally:
        for st in (sh, hz, hq):
            st.close()
    return {"ticket_no": ticket_no, "started": started, "opened": (opened_at, opened),
            "assigned": (assigned_at, assigned), "hq_at": hq_at, "hz_got": hz_got}


def test_the_dispatcher_sees_the_ticket_open_and_get_its_engineer_within_2s(live_ticket):
    opened_at, opened = live_ticket["opened"]
    assert opened == {"type": "ticket_opened", "ticket_no": live_ticket["ticket_no"],
                      "branch": "SH", "occurred_at": opened["occurred_at"]}
    assert opened_at - live_ticket["started"] < LIVE_WITHIN_S
    assigned_at, assigned = live_ticket["assigned"]
    occurred = datetime.fromisoformat(assigned["occurred_at"].replace("Z", "+00:00"))
    assert assigned["branch"] == "SH"
    assert assigned_at - occurred.timestamp() < LIVE_WITHIN_S
    assert live_ticket["hq_at"] - occurred.timestamp() < LIVE_WITHIN_S
    assert set(opened) == {"type", "ticket_no", "branch", "occurred_at"}   # nothing personal


def test_another_branch_does_not_get_the_event(live_ticket):
    hz_got = live_ticket["hz_got"]
    assert hz_got and all(data["branch"] == "HZ" for _, data in hz_got), hz_got
    assert live_ticket["ticket_no"] not in {data["ticket_no"] for _, data in hz_got}


def test_the_stream_needs_a_login(system):
    resp = requests.get(system.url("console", "/console/live"), timeout=10)
    assert resp.status_code == 401


def test_the_board_lists_the_sh_job_for_sh_and_not_for_hz(system, live_ticket):
    ticket_no = live_ticket["ticket_no"]
    sh = _login(system, "sh-dispatcher")
    page = sh.get(system.url("console", "/console/board"), timeout=10)
    assert page.status_code == 200 and f'data-ticket="{ticket_no}"' in page.text
    assert 'sse-connect="/console/live"' in page.text and "sse:engineer_assigned" in page.text
    assert 'data-engineer="SH-E' in page.text                      # SH's engineers
    fragment = sh.get(system.url("console", "/console/board/jobs"), timeout=10)
    assert f'data-ticket="{ticket_no}"' in fragment.text and "<html" not in fragment.text
    hz = _login(system, "hz-dispatcher")
    for path in ("/console/board", "/console/board?branch=SH", "/console/board/jobs?branch=SH"):
        other = hz.get(system.url("console", path), timeout=10)
        assert other.status_code == 200 and ticket_no not in other.text, path
        assert 'data-engineer="SH-E' not in other.text
    agent = _login(system, "hz-agent").get(system.url("console", "/console/board"), timeout=10)
    assert agent.status_code == 403 and ticket_no not in agent.text
    hq = _login(system, "hq-manager")
    assert ticket_no in hq.get(system.url("console", "/console/board"), timeout=10).text
    assert ticket_no in hq.get(system.url("console", "/console/board?branch=SH"), timeout=10).text
    assert ticket_no not in hq.get(system.url("console", "/console/board?branch=HZ"),
                                   timeout=10).text
    hq.get(system.url("console", "/console/lang?to=en&back=/console/board"), timeout=10)
    assert "Dispatch board" in hq.get(system.url("console", "/console/board"), timeout=10).text


def test_a_job_is_reassigned_through_the_console_with_its_ranking(system, live_ticket):
    ticket_no = live_ticket["ticket_no"]
    s = _login(system, "sh-dispatcher")
    url = system.url("console", f"/console/board/jobs/{ticket_no}/assign")
    form = s.get(url, timeout=10)
    assert form.status_code == 200 and 'id="ranking"' in form.text     # the last decision
    forged = s.post(url, data={"csrf": "forged", "reason": "改派"}, timeout=10)
    assert forged.status_code == 400
    empty = s.post(url, data={"csrf": _csrf(form.text), "reason": ""}, timeout=10)
    assert empty.status_code in (400, 422) and 'class="field-error"' in empty.text
    done = s.post(url, data={"csrf": _csrf(form.text), "reason": "原工程师拒单，按排名重新派工"},
                  timeout=10)
    assert done.status_code == 200, done.text
    assert 'role="status"' in done.text and 'id="ranking"' in done.text
    assert 'class="chosen"' in done.text
    s.get(system.url("console", "/console/lang?to=en&back=/console/board"), timeout=10)
    en = s.get(url, timeout=10)
    assert "Ranking and its explanation" in en.text and "The next best-ranked engineer" in en.text
    home = s.get(system.url("console", "/console/home"), timeout=10).text
    assert '<a href="/console/board">' in home                 # the nav link, for a dispatcher
    agent = _login(system, "sh-agent").get(system.url("console", "/console/home"), timeout=10)
    assert '<a href="/console/board" hidden>' in agent.text


def test_open_streams_hold_no_worker(system):
    """More open streams than the console has workers (AFTERSALES_MAX_WORKERS, 10), and the
    pages still answer: a stream is iterated by the web server, not by a worker."""
    s = _login(system, "sh-dispatcher")
    streams = [Stream(system, s) for _ in range(12)]
    try:
        for st in streams:
            assert st.hello().startswith(": connected")
        page = s.get(system.url("console", "/console/home"), timeout=5)
        assert page.status_code == 200
    finally:
        for st in streams:
            st.close()


def _open_streams(system) -> float:
    text = requests.get(system.url("console", "/metrics"), timeout=5).text
    found = re.search(r"^aftersales_console_live_streams (\S+)$", text, re.M)
    return float(found.group(1)) if found else -1.0


def test_a_stream_ends_when_its_client_goes_away(system):
    s = _login(system, "sh-dispatcher")
    wait_until(lambda: _open_streams(system) == 0, timeout=5, what="earlier streams ended")
    before = 0
    st = Stream(system, s)
    st.hello()
    assert st.comments.get(timeout=5) == ": heartbeat"        # CONSOLE_LIVE_HEARTBEAT_S
    assert _open_streams(system) == before + 1
    st.close()
    # the next heartbeat's write fails: the server ends the stream and drops its subscriber
    wait_until(lambda: _open_streams(system) == before, timeout=5, what="the stream ended")
