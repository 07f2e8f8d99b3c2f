"""Two instances of every service on PostgreSQL, end to end (docs/scale-out.md).

Every service runs twice as a real process; both instances of a service share its one
PostgreSQL database and its queues. A stream of repair requests is split over both intake
instances (phone-center bus and HTTP, with some requests sent twice); one instance of every
service is killed with SIGKILL in the middle of it and started again afterwards. A sample of
the jobs is walked through (accept, check-in, parts request, complete, sign-off, survey) calling
either dispatch / feedback instance at random, while SLA clocks with a target of seconds become
at risk and breach. Then, once everything is quiet: no duplicate effect anywhere.

Every check is collected first and reported together, naming the tickets at fault."""
from __future__ import annotations

import csv
import json
import random
import socket
import subprocess
import uuid
from collections import Counter
from datetime import datetime, timezone
from urllib.parse import unquote, urlparse

import pytest
import requests
from sqlalchemy import text

from aftersales.config import reference_dir
from aftersales.db import make_engine
from aftersales.registry import SERVICES
from aftersales.outbox import make_envelope
from tests.support.broker import EventWatcher, publish_event, publish_raw, publish_request
from tests.support.data import repair_request
from tests.support.fixtures import RETRY_DELAYS_MS, auth
from tests.support.processes import System
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

REQUESTS = 300          # the stream
RESENT = 20             # of which sent a second time over the bus
KILL_AT = 100           # one instance of every service is SIGKILLed after this many
SLA_EVERY = 8           # every 8th request is priority B: its response breaches in seconds
WALKED = 8              # jobs walked to the end
# B's response target is 10 s, at risk at 80 %: 8 s. A clock that dispatch only starts (or the
# timer only finds) after its deadline breaches without an at-risk (docs/sla.md, the timer), so
# under a backlog some B tickets skip the at-risk: each is raised at most once, never after the
# breach, and at least one ticket sees both.
SLA_POLICY = {"targets": {"B": {"response": {"seconds": 10}}}}


def a_sku() -> str:
    with (reference_dir() / "parts.csv").open(encoding="utf-8") as fh:
        return next(csv.DictReader(fh))["sku"]


@pytest.fixture
def system(clean_broker, database_urls, db_backend, tmp_path):
    urls = {name: database_urls[name] for name in SERVICES}
    sys_ = System(clean_broker, tmp_path, instances=2, database_urls=urls,
                  DISPATCH_SLA_POLICY=json.dumps(SLA_POLICY), DISPATCH_SLA_TIMER_INTERVAL="0.2")
    try:
        yield sys_.start()
    finally:
        sys_.close()


BRANCHES = ("SH", "HZ", "BJ", "GZ")     # spread over four rosters: more jobs get an engineer


def _request(n: int) -> dict:
    return repair_request(request_id=f"SCALE-{uuid.uuid4().hex[:8]}-{n:04d}", asset=None,
                          branch=BRANCHES[n % len(BRANCHES)],
                          priority="B" if n % SLA_EVERY == 0 else "C",
                          received_at=datetime.now(timezone.utc).isoformat())


class Problems(list):
    def check(self, ok: bool, what: str, detail=None):
        if not ok:
            self.append(f"{what}: {detail}" if detail is not None else what)


def _dupes(keys) -> dict:
    return {k: n for k, n in Counter(keys).items() if n > 1}


@pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)
def test_two_instances_of_every_service_share_the_work_with_no_duplicate_effect(
        system, clean_broker):
    rnd = random.Random(16)
    watcher = EventWatcher(clean_broker, RETRY_DELAYS_MS)
    http = requests.Session()
    try:
        _scenario(system, clean_broker, watcher, http, rnd)
    finally:
        http.close()
        watcher.close()


def _scenario(system, uri, watcher, http, rnd):
    alive = {s: system.instance_names(s) for s in SERVICES}

    def any_of(service):
        return rnd.choice(alive[service])

    # -- the stream, over both doors and both intake instances; kill -9 in the middle --------
    bodies, http_answers = [], Counter()
    killed = [f"{s}-2" for s in SERVICES]
    for n in range(REQUESTS):
        if n == KILL_AT:
            for name in killed:
                system.kill9(name)
                alive[system.service_of(name)].remove(name)
        body = _request(n)
        bodies.append(body)
        if n % 2:
            publish_request(uri, body)
        else:
            r = http.post(system.url(any_of("intake"), "/api/v1/tickets"), json=body,
                          headers=auth(body["branch"], "integration"), timeout=30)
            assert r.status_code == 201, f"request {n} over HTTP: {r.status_code} {r.text}"
            http_answers[body["request_id"]] += 1
        if n < RESENT:
            publish_request(uri, body)                         # the same request again
    exited = {n: pid for n, pid in system.pids().items() if pid is None and n not in killed}
    assert not exited, f"instances that exited while the others were killed: {sorted(exited)}"
    for name in killed:                                        # the killed ones come back
        system.restart(name)
        alive[system.service_of(name)].append(name)

    ids = {b["request_id"] for b in bodies}

    def opened():
        return [e for e in watcher.events if e.get("type") == "ticket_opened"
                and e["data"].get("request_id") in ids and not e["data"].get("duplicate")]
    wait_until(lambda: _drained(watcher) and {e["data"]["request_id"] for e in opened()} == ids,
               timeout=150, interval=0, what="a ticket_opened for every request")
    tickets = {e["data"]["request_id"]: e["ticket_no"] for e in opened()}
    b_tickets = {tickets[b["request_id"]] for b in bodies if b["priority"] == "B"}
    wait_until(lambda: _drained(watcher) and {
        e["ticket_no"] for e in watcher.events
        if e.get("type") in ("engineer_assigned", "assignment_failed")} >= set(tickets.values()),
        timeout=120, interval=0, what="dispatch to answer every ticket")
    assigned = {e["ticket_no"]: e["data"]["engineer_id"] for e in watcher.events
                if e.get("type") == "engineer_assigned"}

    # -- a sample of jobs walked through, each call to either instance ----------------------
    sample = sorted(t for t in assigned if t in tickets.values() and t not in b_tickets)
    sample = rnd.sample(sample, min(WALKED, len(sample)))
    sku = a_sku()
    for ticket_no in sample:
        eng = auth(ticket_no.split("-")[0], "engineer", assigned[ticket_no])
        for step, payload in (("accept", {}), ("check-in", {}),
                              ("parts-requests", {"lines": [{"sku": sku, "quantity": 1}]}),
                              ("complete", {"summary": "扩容测试完工",
                                            "parts_used": [{"sku": sku, "quantity": 1}]}),
                              ("sign-off", {"accepted": True})):
            r = http.post(system.url(any_of("dispatch"), f"/api/v1/jobs/{ticket_no}/{step}"),
                          json=payload, headers=eng, timeout=30)
            assert r.status_code == 200, f"{ticket_no} {step}: {r.status_code} {r.text}"
    for ticket_no in sample:
        watcher.of_type("survey_issued", ticket_no=ticket_no, timeout=60)
        r = http.get(system.url(any_of("feedback"), "/api/v1/surveys"),
                     params={"ticket_no": ticket_no}, headers=auth("HQ", "admin"), timeout=30)
        assert r.status_code == 200, f"{ticket_no} surveys: {r.status_code} {r.text}"
        doc = r.json()
        found = doc.get("surveys", doc) if isinstance(doc, dict) else doc
        token = next((s.get("token") for s in found if s.get("token")), None)
        assert token, f"{ticket_no}: no survey token in {doc}"
        answers = {k: 5 for k in ("response_speed", "attitude", "professionalism",
                                  "effectiveness", "communication", "overall")}
        r = http.post(system.url(any_of("feedback"), f"/api/v1/surveys/{token}"),
                      json={**answers, "recommend": 10}, timeout=30)
        assert r.status_code in (200, 201), f"{ticket_no} survey answer: {r.status_code} {r.text}"

    # -- a parts_requested that reaches parts only after its job completed (a retry or a
    #    redelivery that was overtaken): it must not reserve stock for the finished job
    late = sample[0] if sample else None
    if late:
        watcher.of_type("parts_consumed", ticket_no=late, timeout=60)
        late = (late, {e["data"].get("request_id") for e in watcher.events
                       if e.get("ticket_no") == late and e.get("type", "").startswith("parts_")})
        publish_event(uri, make_envelope("dispatch", "parts_requested", {
            "ticket_no": late[0], "requested_by": assigned[late[0]], "in_warranty": True,
            "lines": [{"sku": sku, "quantity": 1}]}, ticket_no=late[0],
            branch=late[0].split("-")[0]))

    # -- the SLA clocks of the B tickets: at risk, then breached (nobody calls) ----------------
    wait_until(lambda: _drained(watcher) and {
        e["ticket_no"] for e in watcher.events
        if e.get("type") == "sla_breached" and e["data"].get("stage") == "response"} >= b_tickets,
        timeout=60, interval=0, what="every B ticket's response to breach")

    # -- quiet: every outbox sent, every queue empty; then everything the watcher saw ---------
    engines = {s: make_engine(system.env[f"{s.upper()}_DATABASE_URL"]) for s in SERVICES}
    try:
        wait_until(lambda: _quiet(engines, uri), timeout=60, interval=0.3,
                   what="every outbox sent and every queue empty")
        marker = uuid.uuid4().hex
        publish_raw(uri, "intake.events", "test.scale_out.marker",
                    json.dumps({"type": "test_marker", "marker": marker}).encode())
        watcher.wait_for(lambda e: e.get("marker") == marker, timeout=30)
        events = _distinct(watcher.events)
        problems = _no_duplicate_effect(events, bodies, tickets, b_tickets, sample,
                                        http_answers, engines, late)
        parked = _queued(uri, parked=True)
        problems.check(not parked, "messages parked (queue: count)", parked)
        print(f"scale-out: {len(tickets)} tickets, {len(b_tickets)} with a breached SLA, "
              f"{sum(e.get('type') == 'engineer_assigned' for e in events)} assigned, "
              f"{len(sample)} walked, {len(events)} events "
              f"({len(watcher.events) - len(events)} more published again by a relay)")
    finally:
        for engine in engines.values():
            engine.dispose()
    assert not problems, "duplicate or missing effects with two instances per service:\n  " \
        + "\n  ".join(problems)


def _drained(watcher) -> bool:
    """Take what the watcher's queue holds (up to 0.2 s of waiting); always True."""
    try:
        watcher.conn.drain_events(timeout=0.2)
    except socket.timeout:
        pass
    return True


def _distinct(events) -> list[dict]:
    """Each event once: a relay may publish a row again (at-least-once, same ``event_id``);
    consumers absorb that in their inbox, so it is no duplicate effect."""
    seen, out = set(), []
    for e in events:
        key = e.get("event_id") or id(e)
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out


def _quiet(engines, uri) -> bool:
    for engine in engines.values():
        with engine.connect() as c:
            if c.execute(text("SELECT count(*) FROM outbox WHERE published_at IS NULL")).scalar():
                return False
    return sum(_queued(uri, parked=False).values()) == 0


def _queued(uri, parked: bool) -> dict[str, int]:
    """Messages ready or unacknowledged per queue of the test's vhost: the service queues
    (and their retry queues), or with ``parked`` the parking queues."""
    vhost = unquote(urlparse(uri).path.lstrip("/")) or "/"
    out = subprocess.run(["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", "messages"],
                         capture_output=True, text=True, timeout=60).stdout
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit() and not parts[0].startswith("test.watch."):
            if ("parking" in parts[0]) == parked and int(parts[1]):
                found[parts[0]] = int(parts[1])
    return found


def _no_duplicate_effect(events, bodies, tickets, b_tickets, sample, http_answers, engines,
                         late):
    p = Problems()
    ids = {b["request_id"] for b in bodies}
    of = lambda t: [e for e in events if e.get("type") == t]   # noqa: E731
    ours = set(tickets.values())

    # every request answered once (plus one duplicate answer per resend), none rejected
    answers = [e for e in of("ticket_opened") if e["data"].get("request_id") in ids]
    first = Counter(e["data"]["request_id"] for e in answers if not e["data"].get("duplicate"))
    p.check(set(first) == ids, "requests without a ticket_opened", sorted(ids - set(first))[:20])
    p.check(not _dupes(e["data"]["request_id"] for e in answers if not e["data"].get("duplicate")),
            "requests answered with a new ticket more than once (request_id: times)",
            _dupes(e["data"]["request_id"] for e in answers if not e["data"].get("duplicate")))
    rejected = [e for e in of("request_rejected") if e.get("data", {}).get("request_id") in ids]
    p.check(not rejected, "requests rejected",
            [(e["data"]["request_id"], e["data"].get("errors")) for e in rejected][:10])
    per_request = {}
    for e in answers:
        per_request.setdefault(e["data"]["request_id"], set()).add(e["ticket_no"])
    p.check(all(len(v) == 1 for v in per_request.values()),
            "requests answered with different ticket numbers",
            {k: sorted(v) for k, v in per_request.items() if len(v) > 1})

    # ticket numbers unique: in the events and in intake's table
    p.check(not _dupes(e["ticket_no"] for e in answers if not e["data"].get("duplicate")),
            "ticket numbers given to more than one request (ticket_no: times)",
            _dupes(e["ticket_no"] for e in answers if not e["data"].get("duplicate")))
    with engines["intake"].connect() as c:
        rows = c.execute(text("SELECT request_id, ticket_no FROM tickets")).all()
    mine = [r for r in rows if r.request_id in ids]
    p.check(len(mine) == len(ids), f"intake holds {len(mine)} tickets for {len(ids)} requests")
    p.check(not _dupes(r.request_id for r in mine), "requests with several tickets in intake",
            _dupes(r.request_id for r in mine))

    # one job per ticket, one engineer_assigned per assignment (nothing is reassigned here)
    with engines["dispatch"].connect() as c:
        jobs = [r.ticket_no for r in c.execute(text("SELECT ticket_no FROM jobs")).all()]
    p.check(not _dupes(jobs), "tickets with several jobs", _dupes(jobs))
    outcome = [e["ticket_no"] for e in events
               if e.get("type") in ("engineer_assigned", "assignment_failed")
               and e.get("ticket_no") in ours]
    p.check(not _dupes(outcome), "tickets assigned (or failed) more than once (ticket_no: times)",
            _dupes(outcome))
    p.check(set(outcome) == ours, "tickets dispatch never answered", sorted(ours - set(outcome)))

    # each sla_at_risk / sla_breached once per (ticket, stage); every B ticket at risk, breached
    for kind in ("sla_at_risk", "sla_breached"):
        keys = [(e["ticket_no"], e["data"]["stage"]) for e in of(kind) if e.get("ticket_no") in ours]
        p.check(not _dupes(keys), f"{kind} raised more than once (ticket, stage): times",
                _dupes(keys))
    breached = {e["ticket_no"]: e for e in of("sla_breached")
                if e.get("ticket_no") in b_tickets and e["data"]["stage"] == "response"}
    p.check(set(breached) == b_tickets, "B tickets whose response never breached",
            sorted(b_tickets - set(breached)))
    at_risk = {e["ticket_no"]: e for e in of("sla_at_risk")
               if e.get("ticket_no") in b_tickets and e["data"]["stage"] == "response"}
    p.check(bool(at_risk), "no B ticket was ever at risk before its breach")
    after = sorted(t for t, e in at_risk.items() if t in breached and
                   datetime.fromisoformat(e["occurred_at"])
                   > datetime.fromisoformat(breached[t]["occurred_at"]))
    p.check(not after, "sla_at_risk raised after the breach", after)

    # stock reserved once per parts request; each request decided once; one per walked job
    late, first_requests = late or (None, set())
    if late:    # the late parts_requested (published by the test, not by dispatch)
        late_effects = [(e["type"], e["data"].get("request_id")) for e in events
                        if e.get("ticket_no") == late and e.get("type") in (
                            "parts_request_approved", "parts_reserved", "parts_transfer_started",
                            "parts_backordered")
                        and e["data"].get("request_id") not in first_requests]
        p.check(not late_effects, f"a parts_requested handled after job_completed of {late} "
                "approved or reserved stock for the finished job (its events)", late_effects)
    walked = [t for t in sample if t != late]
    asked = [e["ticket_no"] for e in of("parts_requested") if e.get("ticket_no") in sample]
    p.check(sorted(asked) == sorted(sample + ([late] if late else [])),
            "parts_requested per walked job (ticket_no: times)", Counter(asked))
    decided = [e["data"]["request_id"] for e in events if e.get("type") in (
        "parts_request_approved", "parts_request_rejected") and e.get("ticket_no") in walked]
    p.check(not _dupes(decided), "parts requests decided more than once", _dupes(decided))
    p.check(len(set(decided)) == len(walked),
            f"{len(set(decided))} parts requests decided for {len(walked)} walked jobs")
    reserved = [(e["data"]["request_id"], e["data"]["warehouse"], e["data"].get("transfer_id"),
                 e["data"].get("backorder_id")) for e in of("parts_reserved")
                if e.get("ticket_no") in sample]
    p.check(not _dupes(reserved), "stock reserved more than once (request, warehouse, ...)",
            _dupes(reserved))
    consumed = [e["ticket_no"] for e in of("parts_consumed") if e.get("ticket_no") in sample]
    p.check(not _dupes(consumed), "parts consumed more than once per job", _dupes(consumed))

    # one job_closed and one survey per walked job
    for kind in ("job_closed", "survey_issued"):
        seen = [e["ticket_no"] for e in of(kind) if e.get("ticket_no") in ours]
        p.check(Counter(seen) == Counter(sample), f"{kind} per walked job (ticket_no: times)",
                dict(Counter(seen)))
    with engines["feedback"].connect() as c:
        surveys = [r.ticket_no for r in c.execute(text("SELECT ticket_no FROM surveys")).all()]
    p.check(not _dupes(surveys), "tickets with several surveys in feedback", _dupes(surveys))
    p.check(all(n == 1 for n in http_answers.values()), "HTTP requests answered twice")
    return p
