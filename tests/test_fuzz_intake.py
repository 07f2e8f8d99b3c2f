"""Fuzzing intake as it runs (`python -m aftersales run intake`, a real process, with dispatch
behind it): thousands of generated bodies — valid ones, mutated fields, wrong types, deep
nesting, huge strings and numbers, lone surrogates, odd dates, bytes that are not JSON — over
HTTP and on the bus. No answer is a 5xx, no process exits, every bus body that is a JSON object
is answered (ticket_opened or request_rejected), and no ticket that dispatch cannot handle is
ever opened."""
from __future__ import annotations

import json
import re
import socket
import time
from datetime import datetime, timedelta, timezone

import amqp
import pytest
import requests
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from kombu import Connection

from aftersales import jsonbounds
from aftersales.contracts import topology
from services.intake.service_layer.validation import readable
from tests.support.data import repair_request
from tests.support.fixtures import auth
from tests.support.processes import System
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

HTTP_BODIES = 2500
BUS_BODIES = 2500
ANSWERS = ("ticket_opened", "request_rejected")

PATHS = ("request_id", "source", "branch", "channel", "received_at", "customer",
         "customer.name", "customer.contact_name", "customer.phone", "customer.email", "site",
         "site.address", "site.project", "asset", "asset.serial_no", "fault",
         "fault.description", "fault.category", "priority", "expected_by", "unknown_field")
ODD_DATES = ("0001-01-01T00:00:00-08:00", "0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-08:00",
             "2026-11-22T09:30:00", "2026-02-30T09:30:00+08:00", "yesterday", "", "2026-11-22",
             "+275760-09-13T00:00:00Z", "2026-11-22T09:30:00+25:00", "1970-01-01T00:00:00Z")
DEEP = "\u0000DEEP:"       # placeholder replaced by raw nested brackets after json.dumps

text_any = st.text(st.characters(exclude_categories=()), max_size=40)      # incl. surrogates
weird = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(10**29, 10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    text_any, st.text(max_size=10), st.sampled_from(["SH", "HZ", "ZZ", "A", "D", "phone", "fax"]),
    st.sampled_from([101, 501, 5001, 90_000]).map(lambda n: "漏" * n),   # long, huge, too large
    st.sampled_from(ODD_DATES),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)).map(
        lambda d: d.isoformat() + "+08:00"),
    st.lists(st.one_of(st.integers(), text_any), max_size=3),
    st.dictionaries(text_any, st.one_of(st.integers(), text_any), max_size=3),
    st.integers(33, 30_000).map(lambda n: f"{DEEP}{n}"),
)
mutation = st.tuples(st.sampled_from(PATHS), st.one_of(st.just("<delete>"), weird))
body_spec = st.one_of(
    st.tuples(st.just("body"), st.lists(mutation, max_size=0), st.booleans()),    # valid
    st.tuples(st.just("body"), st.lists(mutation, min_size=1, max_size=3), st.booleans()),
    st.tuples(st.just("body"), st.lists(mutation, min_size=1, max_size=3), st.booleans()),
    st.tuples(st.just("body"), st.lists(mutation, min_size=1, max_size=3), st.booleans()),
    st.tuples(st.just("top"), weird, st.booleans()),                        # not an object
    st.tuples(st.just("raw"), st.binary(max_size=300), st.booleans()),
)


def _generate(n: int, distinct: int = 600) -> list:
    """``n`` body specs, drawn up front: ``distinct`` from a seeded hypothesis run (no
    shrinking; hypothesis slows down past a thousand or so), the rest by combining the
    mutations of two of those (deterministically)."""
    out: list = []

    @settings(max_examples=distinct, derandomize=True, database=None, deadline=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(body_spec)
    def collect(spec):
        out.append(spec)

    collect()
    drawn = len(out)
    for i in range(drawn, n):
        a, b = out[i % drawn], out[(i * 7919) % drawn]
        if a[0] == "body" and b[0] == "body":
            out.append(("body", a[1] + b[1], b[2]))
        else:
            out.append(a)
    return out[:n]


def _recent() -> str:
    return (datetime.now(timezone.utc) - timedelta(hours=2)).astimezone(
        timezone(timedelta(hours=8))).isoformat(timespec="seconds")


def _materialise(spec, tag: str) -> bytes:
    kind, content, ascii_only = spec
    if kind == "raw":
        return content
    if kind == "top":
        doc = content
    else:
        doc = repair_request(request_id=tag, received_at=_recent())
        doc["customer"]["phone"] = "13912345678"
        for path, value in content:
            *parents, leaf = path.split(".")
            target = doc
            for p in parents:
                if not isinstance(target.get(p), dict):
                    target = None       # the parent was replaced by an earlier mutation
                    break
                target = target[p]
            if target is None:
                continue
            if value == "<delete>":
                target.pop(leaf, None)
            else:
                target[leaf] = value
    text = json.dumps(doc, ensure_ascii=ascii_only)
    text = re.sub(r'"\\u0000DEEP:(\d+)"|"\x00DEEP:(\d+)"',
                  lambda m: "[" * int(m.group(1) or m.group(2)) + "]" * int(m.group(1) or m.group(2)),
                  text)
    return text.encode("utf-8", "surrogatepass")      # not UTF-8 when a surrogate is raw


def _explicit() -> list[bytes]:
    """The poison bodies of issue #11, always in the run."""
    deep_field = json.dumps(repair_request(request_id="POISON-deep", received_at=_recent()))
    deep_field = deep_field.replace('"fault": {', '"fault": {"x": ' + "[" * 20_000 + "]" * 20_000 + ", ")
    return [b"[" * 100_000, b"[" * 200_000, b"{" * 100_000, deep_field.encode(),
            json.dumps(repair_request(request_id="POISON-obj", branch={"c": "SH"})).encode(),
            json.dumps(repair_request(request_id="POISON-list", branch=["SH"])).encode(),
            json.dumps(repair_request(request_id="POISON-year1",
                                      received_at="0001-01-01T00:00:00-08:00")).encode(),
            json.dumps(repair_request(request_id="POISON-surrogate", source="pc\ud800")).encode()]


def _answerable(raw: bytes) -> tuple[bool, str | None]:
    """Should intake answer this bus body, and with which request_id (None: unreadable)?"""
    try:
        doc = jsonbounds.loads(raw, strict=False)
    except jsonbounds.BodyError:
        return False, None
    if not isinstance(doc, dict):
        return False, None
    rid = readable(doc, "request_id")
    return True, rid.strip() if rid is not None else None   # answers carry it stripped


@pytest.fixture
def system(clean_broker, tmp_path):
    sys_ = System(clean_broker, tmp_path).start(only=("intake", "dispatch"))
    yield sys_
    sys_.close()


def _alive(system, pids):
    for name, pid in pids.items():
        proc = system.procs[name]
        assert proc.poll() is None and proc.pid == pid, f"{name} exited ({proc.returncode})"


def _handled(system) -> dict[str, float]:
    """Intake's phone-center messages finished so far, by outcome (from its /metrics)."""
    text = requests.get(system.url("intake", "/metrics"), timeout=5).text
    out: dict[str, float] = {}
    for m in re.finditer(r'^aftersales_messages_handled_total\{([^}]*)\} (\S+)$', text, re.M):
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        if labels.get("queue") == "aftersales.intake.phone_center":
            out[labels["outcome"]] = out.get(labels["outcome"], 0) + float(m.group(2))
    return out


def _publish_all(uri: str, bodies: list[bytes]) -> None:
    """Every body on one channel, then one confirmed publish (the broker has them all)."""
    with Connection(uri) as conn:
        ch = conn.channel()
        for raw in bodies:
            ch.basic_publish(amqp.Message(raw, content_type="application/json", delivery_mode=2),
                             exchange=topology.PHONE_CENTER_EXCHANGE,
                             routing_key=topology.REPAIR_REQUESTED)
        ch.basic_publish_confirm(amqp.Message(b"{}", content_type="application/json"),
                                 exchange=topology.PHONE_CENTER_EXCHANGE,
                                 routing_key=topology.REPAIR_REQUESTED)


@pytest.mark.timeout(300)
def test_no_generated_body_crashes_intake_or_answers_5xx_and_every_bus_body_is_answered(
        system, watcher):
    pids = {name: p.pid for name, p in system.procs.items()}
    specs = _generate(HTTP_BODIES + BUS_BODIES)
    assert len(specs) == HTTP_BODIES + BUS_BODIES
    bus_bodies = _explicit() + [_materialise(s, f"FZ-bus-{i}")
                                for i, s in enumerate(specs[HTTP_BODIES:])]
    http_bodies = _explicit() + [_materialise(s, f"FZ-http-{i}")
                                 for i, s in enumerate(specs[:HTTP_BODIES])]
    expected = [_answerable(raw) for raw in bus_bodies] + [(True, None)]   # + the closing "{}"

    # the bus bodies go out first: intake works through them while the HTTP bodies come in
    _publish_all(system.env["AMQP_URI"], bus_bodies)
    statuses: dict[int, int] = {}
    with requests.Session() as session:
        headers = {**auth("HQ", "agent"), "Content-Type": "application/json"}
        for i, raw in enumerate(http_bodies):
            if i % 20 == 0:
                _drain_available(watcher)   # keep reading: a watcher that stops is cut off
            r = session.post(system.url("intake", "/api/v1/tickets"), data=raw, headers=headers,
                             timeout=30)
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            assert r.status_code < 500, (r.status_code, r.text[:300], raw[:300])
            if r.status_code in (400, 422):
                assert r.json()["errors"] and all(e["field"] for e in r.json()["errors"])
    assert set(statuses) <= {200, 201, 400, 422}, statuses
    _alive(system, pids)

    # every bus message is finished with (acknowledged or parked: none dropped, none stuck) ...
    total = len(bus_bodies) + 1
    done = wait_until(lambda: (lambda h: h if sum(h.values()) >= total else None)(
        _handled(system)), timeout=180, what=f"intake to finish {total} bus messages")
    assert sum(done.values()) == total and set(done) <= {"ok", "duplicate", "parked"}, done
    # ... and every one that is a JSON object is answered, by its request_id when readable
    want_ids = {rid for ok, rid in expected if ok and rid is not None}
    n_unreadable = sum(1 for ok, rid in expected if ok and rid is None)

    def answered():
        answers = [e for e in watcher.events if e.get("type") in ANSWERS]
        ids = {a["data"].get("request_id") for a in answers}
        nones = sum(1 for a in answers if a["data"].get("request_id") is None)
        return answers if want_ids <= ids and nones >= n_unreadable else None
    answers = _drain_until(watcher, answered, timeout=90, what="an answer to every bus body")

    opened = [a for a in answers if a["type"] == "ticket_opened" and not a["data"]["duplicate"]]
    for a in opened:     # only tickets dispatch can number, clock and assign
        assert re.fullmatch(r"[A-Z]{2}-20\d{6}-\d{4}", a["ticket_no"]), a["ticket_no"]
        received = datetime.fromisoformat(a["data"]["received_at"])
        assert abs(datetime.now(timezone.utc) - received) < timedelta(days=366)
    # dispatch answers every ticket that needs a visit, and parks nothing
    visits = {a["ticket_no"] for a in opened if a["data"]["needs_visit"]}
    _drain_until(watcher, lambda: visits <= {
        e.get("ticket_no") for e in watcher.events
        if e.get("type") in ("engineer_assigned", "assignment_failed")}, timeout=120,
        what=f"dispatch to answer all {len(visits)} tickets that need a visit")
    _alive(system, pids)
    for name, parked in (("dispatch", 0), ("intake", done.get("parked", 0))):
        health = requests.get(system.url(name, "/health"), timeout=5).json()
        assert health["checks"]["broker"].get("parked_messages") == parked, (name, health)
    print(f"\nHTTP {len(http_bodies)} bodies {statuses}; bus {total} bodies {done}, "
          f"{len(opened)} tickets opened in all")


def _drain_available(watcher, limit: int = 2000) -> None:
    for _ in range(limit):
        try:
            watcher.conn.drain_events(timeout=0.01)
        except socket.timeout:
            return


def _drain_until(watcher, probe, timeout: float, what: str):
    """Take the watcher's deliveries (one per ``drain_events``) in a tight loop, checking
    ``probe`` after every few hundred and whenever the queue is idle."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for _ in range(500):
            try:
                watcher.conn.drain_events(timeout=0.2)
            except socket.timeout:
                break            # nothing new right now
        result = probe()
        if result:
            return result
    answers = [e for e in watcher.events if e.get("type") in ANSWERS]
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; "
                         f"{len(answers)} answers so far")
