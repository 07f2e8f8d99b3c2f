"""The load side: the bare-broker baseline, requests published as a phone center does
(docs/intake.md "On the bus", aftersales/simulator.py), and a watcher queue bound on the
event exchanges that notes when each answer arrives."""
from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import amqp
from kombu import Connection, Producer

from bench.common import figures, progress

PHONE_CENTER = "phone_center.events"
BRANCHES = ("SH", "HZ", "BJ", "GZ")
FAULTS = ("配电柜跳闸，整栋楼停电", "空压机运行噪音大，压力不稳", "屋面檩条锈蚀，局部漏水，需要检修",
          "水泵控制柜报警，局部设备无法启动", "电动葫芦起升异响", "吊顶装饰板松动，有掉落风险")
ADDRESSES = {"SH": "上海市浦东新区张杨路1500号B1配电间", "HZ": "杭州市西湖区文三路478号泵站",
             "BJ": "北京市大兴区经海路58号二号车间", "GZ": "广州市天河区天河路208号北塔"}


# -- the bare broker ------------------------------------------------------------------------
def bare_broker_once(uri: str, n: int, size: int = 1024, timeout: float = 120,
                     confirms: bool = False) -> float | None:
    """One kombu producer (persistent; with ``confirms`` a publisher confirm per message, as
    the phone center's publish) and one consumer (acks) on a durable queue of the same node:
    messages/s from the first publish to the last delivery."""
    queue = f"bench.bare.{uuid.uuid4().hex[:8]}"
    body = json.dumps({"pad": "x" * (size - 11)}).encode()   # 1 KB of JSON
    done = threading.Event()
    ready = threading.Event()
    seen = [0]
    last = [0.0]

    def consume():
        with Connection(uri) as conn:
            ch = conn.channel()
            ch.queue_declare(queue, durable=True, auto_delete=False)
            ch.basic_qos(0, 100, False)

            def on(msg):
                msg.channel.basic_ack(msg.delivery_tag)
                seen[0] += 1
                if seen[0] >= n:
                    last[0] = time.perf_counter()
                    done.set()
            ch.basic_consume(queue, callback=on)
            ready.set()
            end = time.monotonic() + timeout
            while not done.is_set() and time.monotonic() < end:
                try:
                    conn.drain_events(timeout=0.5)
                except socket.timeout:
                    pass
            ch.queue_delete(queue)

    t = threading.Thread(target=consume, daemon=True)
    t.start()
    ready.wait(30)
    with Connection(uri) as conn:
        ch = conn.channel()
        producer = Producer(ch, routing_key=queue)
        t0 = time.perf_counter()
        for _ in range(n):
            if confirms:
                ch.basic_publish_confirm(amqp.Message(body, content_type="application/json",
                                                      delivery_mode=2),
                                         exchange="", routing_key=queue)
            else:
                producer.publish(body, content_type="application/json",
                                 content_encoding="binary", delivery_mode=2)
    t.join(timeout + 5)
    if not done.is_set():
        return None
    return n / (last[0] - t0)


def bare_broker(uri: str, n: int, repeats: int) -> dict:
    rates = [bare_broker_once(uri, n) for _ in range(repeats)]
    fig = figures(rates)
    progress(f"  bare broker: {fig['min']:.0f} / {fig['median']:.0f} / {fig['max']:.0f} msg/s "
             f"(min/median/max of {repeats} × {n})")
    return {"messages": n, "message_bytes": 1024, "repeats": [round(r, 1) for r in rates if r],
            "msg_per_s": fig}


# -- requests ------------------------------------------------------------------------------
def request(source: str, n: int, tag: str) -> dict:
    """A repair request as a phone center sends it; a serial of its own (no linking)."""
    branch = BRANCHES[n % len(BRANCHES)]
    return {"request_id": f"{tag}-{n:06d}", "source": source, "branch": branch,
            "channel": "phone",
            "received_at": datetime.now(timezone(timedelta(hours=8))).isoformat(timespec="seconds"),
            "customer": {"name": f"基准测试客户{n % 97}", "contact_name": "张伟",
                         "phone": f"139{n % 100000000:08d}"},
            "site": {"address": ADDRESSES[branch]},
            "asset": {"serial_no": f"BENCH-{tag}-{n:06d}"},
            "fault": {"description": FAULTS[n % len(FAULTS)]}}


class Publisher:
    """One connection, publisher confirms, persistent JSON: as the phone center does."""

    def __init__(self, uri: str):
        self.conn = Connection(uri, connect_timeout=10)
        self.ch = self.conn.channel()
        self.ch.exchange_declare(PHONE_CENTER, "topic", durable=True, auto_delete=False)
        self.sent: dict[str, float] = {}

    def publish(self, body: dict) -> None:
        self.sent[body["request_id"]] = time.time()
        self.ch.basic_publish_confirm(
            amqp.Message(json.dumps(body, ensure_ascii=False).encode("utf-8"),
                         content_type="application/json", content_encoding="utf-8",
                         delivery_mode=2),
            exchange=PHONE_CENTER, routing_key="repair_requested", mandatory=True)

    def close(self) -> None:
        try:
            self.conn.release()
        except Exception:
            pass


# -- the watcher ---------------------------------------------------------------------------
WATCHED = (("intake.events", "ticket_opened"), ("intake.events", "request_rejected"),
           ("dispatch.events", "engineer_assigned"), ("dispatch.events", "assignment_failed"))


class Watcher(threading.Thread):
    """Its own exclusive queue bound to the answers; notes each answer's arrival time."""

    def __init__(self, uri: str, source: str):
        super().__init__(daemon=True)
        self.uri, self.source = uri, source
        self.lock = threading.Lock()
        self.opened: dict[str, list[str]] = {}       # request_id -> ticket numbers
        self.opened_at: dict[str, float] = {}        # request_id -> first seen
        self.request_of: dict[str, str] = {}         # ticket_no -> request_id
        self.rejected: dict[str, list] = {}
        self.assigned: dict[str, list[float]] = {}   # ticket_no -> arrival times
        self.failed: dict[str, int] = {}
        self.ready = threading.Event()
        self.stopping = threading.Event()
        self.error: Exception | None = None

    def run(self):
        try:
            with Connection(self.uri) as conn:
                ch = conn.channel()
                q = f"bench.watch.{uuid.uuid4().hex[:8]}"
                ch.queue_declare(q, exclusive=True, auto_delete=True)
                for ex, key in WATCHED:
                    ch.exchange_declare(ex, "topic", durable=True, auto_delete=False)
                    ch.queue_bind(q, ex, key)
                ch.basic_consume(q, callback=self._on, no_ack=True)
                self.ready.set()
                while not self.stopping.is_set():
                    try:
                        conn.drain_events(timeout=0.5)
                    except socket.timeout:
                        pass
        except Exception as exc:     # noted; the scenario reports it
            self.error = exc
            self.ready.set()

    def _on(self, message):
        now = time.time()
        try:
            doc = json.loads(message.body)
        except ValueError:
            return
        kind, data = doc.get("type"), doc.get("data") or {}
        ticket = doc.get("ticket_no") or data.get("ticket_no")
        with self.lock:
            if kind == "ticket_opened" and data.get("source") == self.source:
                rid = data.get("request_id")
                self.opened.setdefault(rid, []).append(ticket)
                self.opened_at.setdefault(rid, now)
                self.request_of[ticket] = rid
            elif kind == "request_rejected" and data.get("source") == self.source:
                self.rejected.setdefault(data.get("request_id"), []).append(data.get("errors"))
            elif kind == "engineer_assigned":
                self.assigned.setdefault(ticket, []).append(now)
            elif kind == "assignment_failed":
                self.failed[ticket] = self.failed.get(ticket, 0) + 1

    def counts(self) -> tuple[int, int]:
        """(requests answered with a ticket, those tickets assigned)."""
        with self.lock:
            return len(self.opened), sum(1 for t in self.request_of if t in self.assigned)

    def wait(self, opened: int, assigned: int = 0, timeout: float = 60.0,
             label: str = "") -> bool:
        """Until ``opened`` requests have a ticket and ``assigned`` tickets an engineer (or
        the timeout); progress lines every few seconds. True when reached."""
        end = time.monotonic() + timeout
        shown = time.monotonic()
        while True:
            o, a = self.counts()
            if o >= opened and a >= assigned:
                return True
            if time.monotonic() >= end or self.error is not None:
                return False
            if time.monotonic() - shown >= 5:
                progress(f"    {label} {o}/{opened} opened, {a}/{assigned} assigned")
                shown = time.monotonic()
            time.sleep(0.05)      # the load generator's poll, not a test's synchronisation

    def last_opened(self) -> float | None:
        with self.lock:
            return max(self.opened_at.values()) if self.opened_at else None

    def last_assigned(self) -> float | None:
        with self.lock:
            times = [v[0] for t, v in self.assigned.items() if t in self.request_of]
            return max(times) if times else None

    def latencies(self, sent: dict[str, float]) -> list[float]:
        """Seconds from each request's publish to its ticket's first engineer_assigned."""
        with self.lock:
            return [self.assigned[t][0] - sent[r] for t, r in self.request_of.items()
                    if t in self.assigned and r in sent]

    def integrity(self, sent: dict[str, float]) -> dict:
        """Lost (a request answered by nothing), doubled (a request opened twice, a ticket
        number twice, a ticket assigned twice)."""
        with self.lock:
            answered = set(self.opened) | set(self.rejected)
            tickets = [t for ts in self.opened.values() for t in ts]
            return {"requests": len(sent),
                    "lost": len([r for r in sent if r not in answered]),
                    "rejected": len(self.rejected),
                    "doubled_requests": len([r for r, ts in self.opened.items() if len(ts) > 1]),
                    "doubled_ticket_no": len(tickets) - len(set(tickets)),
                    "assigned_twice": len([t for t in self.request_of
                                           if len(self.assigned.get(t, ())) > 1]),
                    "assignment_failed": len([t for t in self.request_of if t in self.failed])}

    def stop(self) -> None:
        self.stopping.set()
        self.join(10)
