"""Dispatch's SLA timer in this process, on a database seeded in bulk with open clocks: one
tick (what ``DispatchService.sla_timer`` does: ``RaiseDueSla`` in batches, then the other
timer duties) with nothing due; a backlog of clocks all due worked through; how late a
breach is seen after its deadline when the timer ticks every second."""
from __future__ import annotations

import shutil
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench.common import figures, progress
from bench.seeding import seed_sla_clocks


class Db:
    """A fresh dispatch database (SQLite file or a PostgreSQL database made for it)."""

    def __init__(self, database: str):
        self.dir = Path(tempfile.mkdtemp(prefix="aftersales-bench-sla-"))
        self.pg = None
        if database == "postgresql":
            from tests.support.fixtures import PgDatabases
            self.pg = PgDatabases()
            self.url = self.pg.create("bench_sla")
        else:
            self.url = f"sqlite:///{self.dir / 'dispatch.db'}"

    def bus(self):
        from aftersales import config as cfg
        from aftersales.db import make_engine, session_factory
        from services.dispatch.bootstrap import bus_for
        settings = cfg.service_config("dispatch", env={}, database_url=self.url,
                                      secret="bench")["AFTERSALES"]
        self.engine = make_engine(self.url)
        return bus_for(session_factory(self.engine), **settings)

    def close(self):
        try:
            self.engine.dispose()
        except AttributeError:
            pass
        if self.pg is not None:
            self.pg.drop_all()
        shutil.rmtree(self.dir, ignore_errors=True)


def tick(bus, now=None) -> tuple[int, float, float]:
    """One tick as the service's timer runs it: (raised, seconds of RaiseDueSla, seconds of
    the whole tick)."""
    from services.dispatch.service import TIMER_DUTIES
    from services.dispatch.service_layer import commands
    t0 = time.perf_counter()
    raised = 0
    scan = commands.RaiseDueSla(now=now)
    while True:
        n = bus.handle(scan)
        raised += n
        if n < scan.limit:
            break
    t1 = time.perf_counter()
    for duty in TIMER_DUTIES:
        bus.handle(duty())
    return raised, t1 - t0, time.perf_counter() - t0


def _seeded(database, count, due_in):
    db = Db(database)
    t = time.perf_counter()
    seed_sla_clocks(db.url, count, due_in)
    progress(f"  seeded {count} open clocks ({database}) in {time.perf_counter() - t:.1f}s")
    return db


def tick_time(database: str, count: int, ticks: int) -> dict:
    """``ticks`` ticks with ``count`` open clocks, none due (deadlines a day ahead)."""
    db = _seeded(database, count, timedelta(days=1))
    try:
        bus = db.bus()
        tick(bus)                                  # warm: caches, statements
        scans, totals = [], []
        for _ in range(ticks):
            _, scan, total = tick(bus)
            scans.append(scan * 1000)
            totals.append(total * 1000)
        res = {"open_clocks": count, "ticks": ticks, "raise_due_ms": figures(scans),
               "tick_ms": figures(totals), "tick_ms_each": [round(x, 2) for x in totals]}
        progress(f"  tick with {count} open clocks: {res['tick_ms']['median']} ms median "
                 f"(RaiseDueSla {res['raise_due_ms']['median']} ms)")
        return res
    finally:
        db.close()


def backlog(database: str, count: int, budget: float) -> dict:
    """``count`` clocks all past their deadline: how long until all are raised (the timer's
    batches). Stops after ``budget`` seconds and reports the rate reached."""
    from services.dispatch.service_layer import commands
    db = _seeded(database, count, -timedelta(hours=2))
    try:
        bus = db.bus()
        scan = commands.RaiseDueSla()
        raised, t0 = 0, time.perf_counter()
        shown = t0
        while time.perf_counter() - t0 < budget:
            n = bus.handle(scan)
            raised += n
            if n < scan.limit:
                break
            if time.perf_counter() - shown >= 5:
                progress(f"    backlog: {raised}/{count} raised")
                shown = time.perf_counter()
        seconds = time.perf_counter() - t0
        done = raised >= count
        res = {"due_clocks": count, "raised": raised, "complete": done,
               "seconds": round(seconds, 3), "per_s": round(raised / seconds, 1) if seconds else None,
               "projected_seconds": round(count / (raised / seconds), 1) if raised else None,
               "budget_seconds": budget}
        progress(f"  backlog of {count}: {raised} raised in {seconds:.1f}s"
                 + ("" if done else f" (budget reached; ~{res['projected_seconds']}s projected)"))
        return res
    finally:
        db.close()


def breach_lateness(database: str, count: int, samples: int, interval: float = 1.0) -> dict:
    """With ``count`` open clocks, a few clocks fall due one after another; the timer ticks
    every ``interval`` (as the service's does, the next tick ``interval`` after the last
    began): seconds from each deadline to the tick that raised it."""
    db = _seeded(database, count, timedelta(days=1))
    try:
        from sqlalchemy import select, update
        from services.dispatch.adapters.orm import sla_clocks
        c = sla_clocks.c
        start = datetime.now(timezone.utc) + timedelta(seconds=2)
        bus = db.bus()
        tickets = [f"SH-20261101-{k * 7:06d}" for k in range(samples)]
        with db.engine.begin() as conn:       # at-risk already raised: each falls due to breach
            for k, ticket in enumerate(tickets):
                due = start + timedelta(seconds=k * 1.37)
                conn.execute(update(sla_clocks).where(c.ticket_no == ticket, c.stage == "resolution")
                             .values(due_at=due, at_risk_at=due - timedelta(hours=1),
                                     at_risk_raised_at=due - timedelta(hours=1)))
        end = time.monotonic() + samples * 1.37 + 15
        raised = 0
        next_tick = time.monotonic()
        while raised < samples and time.monotonic() < end:
            raised += tick(bus)[0]
            next_tick += interval
            time.sleep(max(0.0, next_tick - time.monotonic()))   # the timer's own interval
        with db.engine.connect() as conn:
            rows = conn.execute(select(c.due_at, c.breached_at).where(
                c.ticket_no.in_(tickets), c.stage == "resolution")).all()
        seen = [(b - d).total_seconds() for d, b in rows if b is not None]
        res = {"open_clocks": count, "samples": samples, "timer_interval_s": interval,
               "late_s": figures(seen), "late_s_each": [round(x, 3) for x in seen]}
        progress(f"  breach seen {res['late_s']['median']} s (max {res['late_s']['max']} s) "
                 f"after its deadline with {count} open clocks")
        return res
    finally:
        db.close()
