"""``aftersales simulate`` (``make demo``): plays phone centers, engineers and customers
against a running system and prints progress and a summary.

Each simulated call is published as a phone center does (exchange ``phone_center.events``);
the engineer the platform assigns accepts, checks in and completes over dispatch's HTTP API,
fitting a part; the customer answers the survey over feedback's HTTP API; finally the ticket's
timeline is read back from intake.

It can be run again and again against the same system: every run is its own phone center
(``source``, so request ids never repeat), and a call about an asset that still has an open
ticket (from an earlier run, a demo by hand, an escalated call) is filed without the asset's
serial, since the platform would rightly link it to that ticket instead of dispatching it.
"""
from __future__ import annotations

import json
import os
import random
import sys
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import requests

from . import config as cfg
from .auth import issue_key

CALLS = [
    ("SH", "上海宝钢钢构有限公司", "张伟", "上海市宝山区富锦路885号3号厂房", "SH-GJ-2019-0001",
     "屋面檩条锈蚀，局部漏水，需要检修"),
    ("SH", "上海浦东新城物业管理有限公司", "李娜", "上海市浦东新区张杨路1500号B1配电间",
     "SH-DQ-2024-0107", "配电柜跳闸，整栋楼停电"),
    ("SH", "上海嘉定精工机械有限公司", "王强", "上海市嘉定区安亭镇墨玉路88号",
     "SH-EQ-2025-0033", "空压机运行噪音大，压力不稳"),
    ("HZ", "杭州西湖水务集团", "陈静", "杭州市西湖区文三路478号泵站", "HZ-DQ-2023-0042",
     "水泵控制柜报警，局部设备无法启动"),
    ("BJ", "北京亦庄重工有限公司", "刘洋", "北京市大兴区经海路58号二号车间", "BJ-EQ-2022-0008",
     "电动葫芦起升异响"),
    ("GZ", "广州天河城物业管理有限公司", "黄敏", "广州市天河区天河路208号北塔", "GZ-ZS-2024-0321",
     "吊顶装饰板松动，有掉落风险"),
]


# intake's statuses of a ticket that is no longer open (services.intake.domain.model)
FINAL_STATUSES = ("completed", "closed", "resolved", "cancelled")


class Step(Exception):
    pass


def _publish(amqp_uri: str, body: dict) -> None:
    import amqp
    from kombu import Connection
    with Connection(amqp_uri, connect_timeout=5) as conn:
        ch = conn.channel()
        ch.exchange_declare("phone_center.events", "topic", durable=True, auto_delete=False)
        ch.basic_publish_confirm(
            amqp.Message(json.dumps(body, ensure_ascii=False).encode("utf-8"),
                         content_type="application/json", content_encoding="utf-8",
                         delivery_mode=2),
            exchange="phone_center.events", routing_key="repair_requested", mandatory=True)


def _wait(probe, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.1)
    raise Step(f"timed out after {timeout:.0f}s waiting for {what}")


class Simulator:
    def __init__(self, args):
        env = os.environ
        self.secret = cfg.signing_secret(env)
        self.amqp_uri = env.get("AMQP_URI", cfg.DEFAULT_AMQP_URI)
        self.intake = args.intake_url or f"http://{cfg.http_address('intake')}"
        self.dispatch = args.dispatch_url or f"http://{cfg.http_address('dispatch')}"
        self.feedback = f"http://{cfg.http_address('feedback')}"
        self.timeout = args.timeout
        self.http = requests.Session()
        self.hq = {"Authorization": f"Bearer {issue_key(self.secret, 'HQ', 'admin', subject='simulator')}"}
        self.source = f"sim-{uuid.uuid4().hex[:6]}"
        self.outcomes: dict[str, dict] = {}
        self.busy: dict[tuple[str, str], str] = {}   # (branch, serial) -> its open ticket
        self._listen()

    def _listen(self):
        """Like a phone center: an own queue on intake.events for the answers."""
        from kombu import Connection
        self.conn = Connection(self.amqp_uri, connect_timeout=5)
        self.channel = self.conn.channel()
        self.channel.exchange_declare("intake.events", "topic", durable=True, auto_delete=False)
        q = f"simulator.{self.source}"
        self.channel.queue_declare(q, exclusive=True, auto_delete=True)
        for key in ("ticket_opened", "request_rejected"):
            self.channel.queue_bind(q, "intake.events", key)
        self.channel.basic_consume(q, no_ack=True, callback=self._on_outcome)

    def _on_outcome(self, message):
        doc = json.loads(message.body)
        if doc.get("data", {}).get("source") == self.source:
            self.outcomes[doc["data"]["request_id"]] = doc

    def _outcome(self, request_id):
        import socket
        try:
            self.conn.drain_events(timeout=0.2)
        except socket.timeout:
            pass
        return self.outcomes.get(request_id)

    def _ticket(self, ticket_no):
        r = self.http.get(f"{self.intake}/api/v1/tickets/{ticket_no}", headers=self.hq, timeout=10)
        return r.json() if r.status_code == 200 else None

    def find_open_assets(self) -> None:
        """The assets that have an open ticket now: a new call about one would be linked."""
        page = 1
        while True:
            r = self.http.get(f"{self.intake}/api/v1/tickets", headers=self.hq, timeout=10,
                              params={"page": page, "per_page": 200})
            if r.status_code != 200:
                raise Step(f"listing the open tickets answered {r.status_code}: {r.text[:200]}")
            doc = r.json()
            for t in doc["tickets"]:
                serial = (t.get("asset") or {}).get("serial_no")
                if serial and t["status"] not in FINAL_STATUSES and not t.get("linked_to"):
                    self.busy.setdefault((t["branch"], serial), t["ticket_no"])
            if page * doc["per_page"] >= doc["total"] or not doc["tickets"]:
                return
            page += 1

    def one_call(self, n: int) -> dict:
        branch, customer, contact, address, serial, fault = CALLS[n % len(CALLS)]
        request_id = f"{self.source}-{n:04d}"
        note = None
        if (branch, serial) in self.busy:
            note = f"asset {serial} has open ticket {self.busy[(branch, serial)]}: filed without its serial"
            serial = None
        body = {
            "request_id": request_id, "source": self.source, "branch": branch,
            "channel": random.choice(["phone", "phone", "wechat", "web"]),
            "received_at": datetime.now(timezone(timedelta(hours=8))).isoformat(timespec="seconds"),
            "customer": {"name": customer, "contact_name": contact,
                         "phone": f"139{random.randint(10000000, 99999999)}"},
            "site": {"address": address}, "asset": {"serial_no": serial} if serial else {},
            "fault": {"description": fault},
        }
        _publish(self.amqp_uri, body)
        answer = _wait(lambda: self._outcome(request_id), self.timeout, "intake's answer")
        if answer["type"] == "request_rejected":
            raise Step(f"rejected: {answer['data']['errors']}")
        ticket_no = answer["ticket_no"]
        if answer["data"].get("linked_to"):
            return {"ticket_no": ticket_no, "outcome": "linked", "priority": answer["data"]["priority"],
                    "note": f"linked to open ticket {answer['data']['linked_to']}"}
        view = _wait(lambda: self._step_seen(ticket_no, ("engineer_assigned", "assignment_failed")),
                     self.timeout, "dispatch to assign an engineer")
        assigned = next((e for e in view["timeline"] if e["type"] == "engineer_assigned"), None)
        if assigned is None:
            if serial:
                self.busy[(branch, serial)] = ticket_no     # stays open: later calls avoid it
            return {"ticket_no": ticket_no, "outcome": "escalated", "priority": view["priority"],
                    "note": note}
        eng = assigned["engineer_id"]
        headers = {"Authorization": f"Bearer {issue_key(self.secret, branch, 'engineer', eng)}"}
        paid = (("diagnosis", {"cause": "environment", "responsibility": "customer",
                               "findings": "超出保修期，现场检查后报价"}),
                ("quote", {"materials": "0", "labour": "300", "travel": "100"}),
                ("quote/decision", {"approved": True}))      # recorded for the customer
        steps = [("accept", {}), ("check-in", {}), "paid?",
                 ("complete", {"summary": "已处理完毕，客户现场确认",
                               "parts_used": self._parts(branch)}),
                 ("sign-off", {"accepted": True})]             # the customer's 验收
        job = {}
        for item in steps:
            if item == "paid?":
                if not job.get("chargeable"):
                    continue
                todo = paid                                  # out of warranty: a quote first
            else:
                todo = (item,)
            for step, payload in todo:
                r = self.http.post(f"{self.dispatch}/api/v1/jobs/{ticket_no}/{step}",
                                   json=payload, headers=headers, timeout=10)
                if r.status_code != 200:
                    raise Step(f"{step} answered {r.status_code}: {r.text[:200]}")
                job = r.json()
        _wait(lambda: self._step_seen(ticket_no, ("survey_issued",)), self.timeout,
              "feedback to issue the survey")
        score = self._answer_survey(ticket_no, branch)
        return {"ticket_no": ticket_no, "outcome": "completed", "priority": view["priority"],
                "engineer": eng, "score": score, "note": note}

    def _step_seen(self, ticket_no, types):
        view = self._ticket(ticket_no)
        if view and any(e["type"] in types for e in view["timeline"]):
            return view
        return None

    def _parts(self, branch):
        r = self.http.get(f"http://{cfg.http_address('parts')}/api/v1/stock",
                          params={"branch": branch}, headers=self.hq, timeout=10)
        if r.status_code != 200:
            return []
        doc = r.json()
        items = doc.get("stock", doc) if isinstance(doc, dict) else doc
        in_stock = [i for i in items if i.get("on_hand", 0) > 0]
        return [{"sku": in_stock[0]["sku"], "quantity": 1}] if in_stock else []

    def _answer_survey(self, ticket_no, branch):
        r = self.http.get(f"{self.feedback}/api/v1/surveys", params={"ticket_no": ticket_no},
                          headers=self.hq, timeout=10)
        if r.status_code != 200:
            return None
        doc = r.json()
        surveys = doc.get("surveys", doc) if isinstance(doc, dict) else doc
        if isinstance(surveys, dict):
            surveys = [surveys]
        token = next((s.get("token") for s in surveys if s.get("token")), None)
        if not token:
            return None
        overall = random.choice([5, 5, 4, 4, 3, 2])
        answers = {k: overall for k in ("response_speed", "attitude", "professionalism",
                                         "effectiveness", "communication", "overall")}
        answers.update(recommend=min(10, overall * 2), comment="师傅很专业，处理及时")
        r = self.http.post(f"{self.feedback}/api/v1/surveys/{token}", json=answers, timeout=10)
        return overall if r.status_code in (200, 201) else None


def main(args) -> int:
    sim = Simulator(args)
    try:
        r = sim.http.get(f"{sim.intake}/health", timeout=5)
        r.raise_for_status()
    except Exception as exc:
        print(f"intake is not answering at {sim.intake} ({exc}); start the system with `make run`",
              file=sys.stderr)
        return 1
    try:
        sim.find_open_assets()
    except (Step, requests.RequestException) as exc:
        print(f"could not list intake's open tickets: {exc}", file=sys.stderr)
        return 1
    print(f"simulating {args.tickets} call(s) against {sim.intake} (source {sim.source})")
    results, failures = [], []
    started = time.monotonic()
    for n in range(args.tickets):
        t0 = time.monotonic()
        try:
            res = sim.one_call(n)
            results.append(res)
            print(f"[{n + 1}/{args.tickets}] {res['ticket_no']} priority {res['priority']}: "
                  f"{res['outcome']}"
                  + (f", engineer {res['engineer']}, survey score {res['score']}" if res.get("engineer") else "")
                  + (f" [{res['note']}]" if res.get("note") else "")
                  + f" ({time.monotonic() - t0:.1f}s)")
        except (Step, requests.RequestException) as exc:
            failures.append(str(exc))
            print(f"[{n + 1}/{args.tickets}] failed: {exc}")
    sim.conn.release()
    outcomes = Counter(r["outcome"] for r in results)
    scores = [r["score"] for r in results if r.get("score")]
    print("\nsummary")
    print(f"  calls: {args.tickets}, completed: {outcomes.get('completed', 0)}, "
          f"escalated: {outcomes.get('escalated', 0)}, linked: {outcomes.get('linked', 0)}, "
          f"failed: {len(failures)}")
    print(f"  by priority: {dict(Counter(r['priority'] for r in results))}")
    if scores:
        print(f"  average survey score: {sum(scores) / len(scores):.2f} ({len(scores)} answered)")
    print(f"  elapsed: {time.monotonic() - started:.1f}s")
    return 0 if not failures else 1
