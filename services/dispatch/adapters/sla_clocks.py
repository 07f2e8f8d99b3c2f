"""The SLA clocks of each ticket and stage, their history of deadlines and the pauses while a
ticket waits on the customer (``sla_clocks``, ``sla_history``, ``sla_pauses``)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.orm import Session

from aftersales.contracts.envelope import utcnow

from ..domain.clocks import OPEN, StageClock
from .orm import sla_clocks, sla_history, sla_pauses


def _clock(row) -> StageClock:
    values = {k: row[k] for k in StageClock.__dataclass_fields__}
    values["working"] = bool(values["working"])
    return StageClock(**values)


def _clock_values(c: StageClock) -> dict:
    values = {k: getattr(c, k) for k in StageClock.__dataclass_fields__}
    return values


def _history(c: StageClock, reason: str, at: datetime) -> dict:
    return {"ticket_no": c.ticket_no, "stage": c.stage, "priority": c.priority,
            "target_seconds": c.target_seconds, "due_at": c.due_at, "at_risk_at": c.at_risk_at,
            "reason": reason, "changed_at": at}


_SAVES: dict = {}


def _save_statement(shape: tuple[bool, bool] | None):
    """``UPDATE sla_clocks SET … WHERE ticket_no, stage [and the expected status and raised
    flags]`` with bound parameters: one statement per ``shape`` (None: unconditional;
    (breached_at is None, at_risk_raised_at is None) as expected)."""
    stmt = _SAVES.get(shape)
    if stmt is None:
        c = sla_clocks.c
        cols = [k for k in StageClock.__dataclass_fields__ if k not in ("ticket_no", "stage")]
        stmt = (update(sla_clocks)
                .where(c.ticket_no == bindparam("k_ticket_no"), c.stage == bindparam("k_stage"))
                .values({**{k: bindparam(f"v_{k}") for k in cols},
                         "updated_at": bindparam("v_updated_at")}))
        if shape is not None:
            not_breached, not_at_risk = shape
            stmt = stmt.where(
                c.status == bindparam("e_status"),
                c.breached_at.is_(None) if not_breached else c.breached_at.is_not(None),
                c.at_risk_raised_at.is_(None) if not_at_risk else c.at_risk_raised_at.is_not(None))
        _SAVES[shape] = stmt
    return stmt


class SlaRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, clock: StageClock, reason: str) -> None:
        self.add_all([clock], reason)

    def add_all(self, clocks: list[StageClock], reason: str) -> None:
        """Insert the clocks and their first deadlines: one statement per table."""
        if not clocks:
            return
        now = utcnow()
        self.session.execute(sla_clocks.insert(),
                             [{**_clock_values(c), "updated_at": now} for c in clocks])
        self.session.execute(sla_history.insert(), [_history(c, reason, now) for c in clocks])

    def record_history(self, clock: StageClock, reason: str) -> None:
        self.session.execute(sla_history.insert(), _history(clock, reason, utcnow()))

    def save(self, clock: StageClock, expect: StageClock | None = None) -> bool:
        """Write the clock. With ``expect`` (the clock as read) only if the row is still open
        with the same raised flags (compare-and-set: the timer and a completion never overwrite
        each other's decision, even on SQLite, which takes no row locks). True if written.
        The statement is built once per shape and executed with parameters (the timer saves
        thousands of clocks working through a backlog)."""
        values = _clock_values(clock)
        params = {f"v_{k}": v for k, v in values.items() if k not in ("ticket_no", "stage")}
        params.update(k_ticket_no=clock.ticket_no, k_stage=clock.stage, v_updated_at=utcnow())
        shape = None
        if expect is not None:
            shape = (expect.breached_at is None, expect.at_risk_raised_at is None)
            params["e_status"] = expect.status
        return self.session.execute(_save_statement(shape), params).rowcount == 1

    def of_ticket(self, ticket_no: str, lock: bool = False) -> dict[str, StageClock]:
        query = select(sla_clocks).where(sla_clocks.c.ticket_no == ticket_no)
        if lock:
            query = query.with_for_update()
        return {r["stage"]: _clock(r) for r in self.session.execute(query).mappings()}

    def history(self, ticket_no: str) -> list[dict]:
        rows = self.session.execute(
            select(sla_history).where(sla_history.c.ticket_no == ticket_no)
            .order_by(sla_history.c.id)).mappings()
        return [{"stage": r["stage"], "priority": r["priority"],
                 "target_seconds": r["target_seconds"], "due_at": r["due_at"],
                 "at_risk_at": r["at_risk_at"], "reason": r["reason"],
                 "changed_at": r["changed_at"]} for r in rows]

    def due(self, now: datetime, limit: int = 200) -> list[StageClock]:
        """Open clocks whose at-risk mark or deadline has passed and whose event is not raised
        yet, earliest deadline first, locked (PostgreSQL: SKIP LOCKED, so two timers never take
        the same row).

        Two bounded queries, one per index (``ix_sla_clocks_breach_due``,
        ``ix_sla_clocks_risk_due``), instead of one OR that neither database can answer from an
        index: each reads only the clocks due now, whatever the number of open clocks (an open
        clock already breached stays open until its stage ends: a scan would read them all)."""
        c = sla_clocks.c
        breach = select(sla_clocks).where(
            c.status == OPEN, c.breached_at.is_(None), c.due_at <= now)
        risk = select(sla_clocks).where(
            c.status == OPEN, c.at_risk_raised_at.is_(None), c.breached_at.is_(None),
            c.at_risk_at <= now, c.due_at.is_not(None))
        found: dict[tuple[str, str], StageClock] = {}
        for query in (breach.order_by(c.due_at), risk.order_by(c.at_risk_at)):
            query = query.limit(limit)
            if self.session.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            for r in self.session.execute(query).mappings():
                found.setdefault((r["ticket_no"], r["stage"]), _clock(r))
        return sorted(found.values(), key=lambda k: k.due_at)[:limit]

    def open_counts(self, now: datetime) -> tuple[list, list]:
        """(at risk, overdue) open clocks counted by (stage, priority, branch): at risk = past
        the at-risk mark, deadline not yet passed; overdue = deadline passed, not completed.
        A paused clock (its ticket waits on the customer) is neither."""
        c = sla_clocks.c
        key = (c.stage, c.priority, c.branch)
        running = and_(c.status == OPEN, ~self._paused(c.ticket_no))
        risk = self.session.execute(
            select(*key, func.count()).where(running, c.at_risk_at <= now, c.due_at > now)
            .group_by(*key)).all()
        over = self.session.execute(
            select(*key, func.count()).where(running, c.due_at <= now)
            .group_by(*key)).all()
        return [tuple(r) for r in risk], [tuple(r) for r in over]

    def open_clocks(self, branch: str | None = None) -> list[StageClock]:
        query = select(sla_clocks).where(sla_clocks.c.status == OPEN)
        if branch:
            query = query.where(sla_clocks.c.branch == branch)
        return [_clock(r) for r in self.session.execute(query.order_by(sla_clocks.c.due_at)).mappings()]

    # pauses
    @staticmethod
    def _paused(ticket_no_column):
        return select(sla_pauses.c.id).where(sla_pauses.c.ticket_no == ticket_no_column,
                                             sla_pauses.c.ended_at.is_(None)).exists()

    def paused_tickets(self) -> set[str]:
        """Tickets waiting on the customer now (an open pause)."""
        return set(self.session.execute(select(sla_pauses.c.ticket_no).where(
            sla_pauses.c.ended_at.is_(None))).scalars())

    def pauses(self, ticket_no: str) -> list[tuple[datetime, datetime | None]]:
        rows = self.session.execute(
            select(sla_pauses.c.started_at, sla_pauses.c.ended_at)
            .where(sla_pauses.c.ticket_no == ticket_no).order_by(sla_pauses.c.id)).all()
        return [(a, b) for a, b in rows]

    def open_pause(self, ticket_no: str) -> dict | None:
        row = self.session.execute(
            select(sla_pauses).where(sla_pauses.c.ticket_no == ticket_no,
                                     sla_pauses.c.ended_at.is_(None))).mappings().first()
        return dict(row) if row else None

    def start_pause(self, ticket_no: str, at: datetime, reason: str, by: str) -> None:
        self.session.execute(sla_pauses.insert().values(
            ticket_no=ticket_no, started_at=at, ended_at=None, reason=reason, by=by))

    def end_pause(self, ticket_no: str, at: datetime) -> None:
        self.session.execute(update(sla_pauses).where(
            sla_pauses.c.ticket_no == ticket_no, sla_pauses.c.ended_at.is_(None))
            .values(ended_at=at))
