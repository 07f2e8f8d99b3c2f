"""Outbox relay throughput: the relay (batched publisher confirms) against a baseline relay
that confirms and marks one message at a time, measured in the same run on the same broker
and database. Writes bench/results/outbox_relay.json.

    python bench/outbox_relay.py [--events 2000] [--database sqlite|postgresql]
"""
from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import amqp  # noqa: E402
from sqlalchemy import select, update  # noqa: E402

from aftersales.contracts.envelope import utcnow  # noqa: E402
from aftersales.db import make_engine, migrate, session_factory  # noqa: E402
from aftersales.messaging import broker  # noqa: E402
from aftersales.messaging.relay import OutboxRelay  # noqa: E402
from aftersales.outbox import UnitOfWork, outbox  # noqa: E402
from aftersales.registry import migrations_dir  # noqa: E402
from tests.support import broker as tb  # noqa: E402

DELAYS = [1000]


def fill(engine, n: int) -> None:
    """n outbox rows of an event the platform consumes (routed to intake's queue)."""
    uow = UnitOfWork(session_factory(engine), "feedback")
    with uow:
        for i in range(n):
            uow.publish("survey_issued", {"ticket_no": f"SH-20261122-{i:04d}",
                                          "survey_id": f"survey-{i}",
                                          "expires_at": "2026-12-06T09:00:00+08:00"},
                        ticket_no=f"SH-20261122-{i:04d}", branch="SH")
        uow.commit()


def pending(engine) -> int:
    with engine.connect() as c:
        return len(c.execute(select(outbox.c.id).where(outbox.c.published_at.is_(None))).all())


def baseline(engine, uri: str) -> None:
    """One confirm round trip and one UPDATE per message."""
    with broker.connection(uri) as conn:
        ch = conn.channel()
        broker.declare_topology(ch, DELAYS)
        with engine.connect() as c:
            rows = c.execute(select(outbox).where(outbox.c.published_at.is_(None))
                             .order_by(outbox.c.id)).all()
        for r in rows:
            ch.basic_publish_confirm(amqp.Message(r.body.encode(), content_type="application/json",
                                                  delivery_mode=2, message_id=r.event_id),
                                     exchange=r.exchange, routing_key=r.routing_key, mandatory=True)
            with engine.begin() as c:
                c.execute(update(outbox).where(outbox.c.id == r.id).values(published_at=utcnow()))


def relay(engine, uri: str) -> None:
    r = OutboxRelay(engine, uri, DELAYS)
    while r.publish_pending():
        pass
    r._close()


def measure(name, fn, engine, uri, n):
    fill(engine, n)
    tracemalloc.start()
    t0 = time.perf_counter()
    fn(engine, uri)
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert pending(engine) == 0, f"{name} left events unpublished"
    return {"seconds": round(seconds, 4), "events_per_second": round(n / seconds, 1),
            "peak_python_memory_kib": round(peak / 1024, 1)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=2000)
    ap.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "outbox_relay.json"))
    args = ap.parse_args(argv)

    base = tb.base_uri()
    vhost = tb.make_vhost()
    if vhost is None:
        print("needs rabbitmqctl to make a private virtual host (it purges what it publishes)",
              file=sys.stderr)
        return 1
    uri = tb.uri_with_vhost(base, vhost)
    tmp = tempfile.mkdtemp()
    try:
        if args.database == "sqlite":
            url = f"sqlite:///{tmp}/bench.db"
        else:
            from tests.support.fixtures import PgDatabases
            pg = PgDatabases()
            url = pg.create("bench")
        engine = make_engine(url)
        migrate(engine, migrations_dir("intake"))  # any service's schema has the outbox
        print(f"publishing {args.events} events through each relay ({args.database}) …")
        results = {}
        for name, fn in (("baseline_confirm_each", baseline), ("relay_batched", relay)):
            results[name] = measure(name, fn, engine, uri, args.events)
            print(f"  {name}: {results[name]['events_per_second']} events/s")
        ratio = results["relay_batched"]["events_per_second"] / results["baseline_confirm_each"]["events_per_second"]
        doc = {"benchmark": "outbox_relay", "events": args.events, "database": args.database,
               "results": results, "speedup_vs_baseline": round(ratio, 2),
               "machine": {"cpus": os.cpu_count()}}
        Path(args.out).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        print(f"relay is {ratio:.1f}x the baseline; wrote {args.out}")
        engine.dispose()
        if args.database == "postgresql":
            pg.drop_all()
    finally:
        tb.rabbitmqctl("delete_vhost", vhost)
    return 0


if __name__ == "__main__":
    sys.exit(main())
