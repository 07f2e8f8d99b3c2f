"""Bulk data through the services' own tables (their migrations, their ORM ``Table``s):
intake's stored tickets, dispatch's open SLA clocks and the jobs they belong to."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import insert

BATCH = 5000
BRANCHES = ("SH", "HZ", "BJ", "GZ")
STAGES = ("response", "dispatch", "arrival", "resolution")


def _engine(url: str, service: str):
    from aftersales.db import make_engine, migrate
    from aftersales.registry import migrations_dir
    engine = make_engine(url)
    migrate(engine, migrations_dir(service))
    return engine


def _insert(engine, table, rows_iter) -> int:
    n, batch = 0, []
    with engine.begin() as conn:
        for row in rows_iter:
            batch.append(row)
            if len(batch) >= BATCH:
                conn.execute(insert(table), batch)
                n += len(batch)
                batch = []
        if batch:
            conn.execute(insert(table), batch)
            n += len(batch)
    return n


def seed_intake_tickets(url: str, count: int) -> int:
    """``count`` tickets stored before the run, on past days (their numbers never meet the
    run's), a serial each, most of them closed, a tenth still open."""
    from services.intake.adapters.orm import ticket_sequences, tickets
    engine = _engine(url, "intake")
    now = datetime.now(timezone.utc)
    per_day: dict[tuple[str, str], int] = {}

    def rows():
        for i in range(count):
            b = BRANCHES[i % 4]
            day = date.today() - timedelta(days=30 + (i // 400) % 3000)
            key = (b, f"{day:%Y%m%d}")
            per_day[key] = per_day.get(key, 0) + 1
            at = datetime(day.year, day.month, day.day, 2, 0, tzinfo=timezone.utc)
            open_ = i % 10 == 0
            req = {"request_id": f"stored-{i:07d}", "source": "bench-stored", "branch": b,
                   "channel": "phone", "received_at": at.isoformat(),
                   "customer": {"name": "存量客户", "contact_name": "张伟",
                                "phone": f"138{i:08d}"},
                   "site": {"address": "上海市浦东新区张杨路1500号"},
                   "asset": {"serial_no": f"STORED-{i:07d}"},
                   "fault": {"description": "配电柜跳闸，整栋楼停电"}}
            yield {"ticket_no": f"{b}-{key[1]}-{per_day[key]:04d}", "branch": b,
                   "source": "bench-stored", "request_id": f"stored-{i:07d}", "channel": "phone",
                   "received_at": at, "priority": "B", "category": "fault",
                   "classification_rule": "bench", "status": "assigned" if open_ else "closed",
                   "intake_state": "open", "linked_to": None,
                   "serial_no": f"STORED-{i:07d}", "first_contact_at": None,
                   "customer_phone": f"138{i:08d}", "warranty_status": "unknown",
                   "warranty_ends_on": None, "warranty_component": None, "request": req,
                   "opened_at": at, "updated_at": now}
    try:
        n = _insert(engine, tickets, rows())
        _insert(engine, ticket_sequences, ({"branch": b, "day": d, "last_no": k}
                                           for (b, d), k in per_day.items()))
    finally:
        engine.dispose()
    return n


def seed_sla_clocks(url: str, count: int, due_in: timedelta, now: datetime | None = None) -> int:
    """``count`` open clocks (four stages per ticket, so ``count / 4`` tickets) whose at-risk
    mark and deadline are ``due_in`` from now (negative: all due), and a job per ticket
    (a third assigned, a third accepted, a third on site): what the timer's duties scan."""
    from services.dispatch.adapters.orm import jobs, sla_clocks
    from services.dispatch.domain import model
    engine = _engine(url, "dispatch")
    from aftersales.db import session_factory
    from aftersales.registry import seed_function
    with session_factory(engine)() as s:          # the demo roster (supervisors to escalate to)
        seed_function("dispatch")(s, only_if_empty=True)
        s.commit()
    now = now or datetime.now(timezone.utc)
    tickets = (count + 3) // 4
    status_of = (model.ASSIGNED, model.ACCEPTED, model.ON_SITE)

    def clock_rows():
        made = 0
        for t in range(tickets):
            for stage in STAGES:
                if made >= count:
                    return
                made += 1
                due = now + due_in + timedelta(seconds=t % 600)
                yield {"ticket_no": f"SH-20261101-{t:06d}", "stage": stage, "branch": BRANCHES[t % 4],
                       "priority": "B", "received_at": now - timedelta(hours=1),
                       "target_seconds": 14400.0, "working": False, "due_at": due,
                       "at_risk_at": due - timedelta(hours=1) if due_in.total_seconds() > 3600
                       else due, "status": "open", "at_risk_raised_at": None,
                       "breached_at": None, "escalation_level": None, "escalated_to": None,
                       "completed_at": None, "elapsed_seconds": None, "updated_at": now}

    def job_rows():
        for t in range(tickets):
            st = status_of[t % 3]
            yield {"ticket_no": f"SH-20261101-{t:06d}", "branch": BRANCHES[t % 4], "priority": "B",
                   "category": "fault", "product_line": None, "received_at": now - timedelta(hours=1),
                   "status": st, "engineer_id": f"{BRANCHES[t % 4]}-E001", "engineer_name": "李强",
                   "escalated_to": None, "opened_event_id": f"00000000-0000-0000-0000-{t:012d}",
                   "created_at": now, "assigned_at": now, "accepted_at": None if st == model.ASSIGNED else now,
                   "checked_in_at": now if st == model.ON_SITE else None, "completed_at": None,
                   "summary": None, "parts_used": [], "updated_at": now,
                   "last_report_at": now if st == model.ON_SITE else None}
    try:
        n = _insert(engine, sla_clocks, clock_rows())
        _insert(engine, jobs, job_rows())
    finally:
        engine.dispose()
    return n
