"""The UTC column type on SQLite and PostgreSQL: an instant written with any offset is read
back as the same instant, aware, in UTC; a naive datetime is refused; window queries compare
instants, not wall times. And the platform clock can be injected."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, select
from sqlalchemy.exc import StatementError

from aftersales import clock
from aftersales.contracts.envelope import utcnow
from aftersales.db import make_engine
from aftersales.timecolumns import NaiveDateTimeError, UTCDateTime

SHANGHAI = ZoneInfo("Asia/Shanghai")
md = MetaData()
moments = Table("moments", md, Column("id", Integer, primary_key=True),
                Column("at", UTCDateTime(), nullable=True))


@pytest.fixture
def engine(database_urls):
    e = make_engine(database_urls["feedback"])
    md.create_all(e)
    yield e
    e.dispose()


def _read(engine, **where):
    with engine.connect() as c:
        return c.execute(select(moments.c.at).where(*where.values()) if where else
                         select(moments.c.at).order_by(moments.c.id)).scalars().all()


def test_an_instant_with_a_shanghai_offset_reads_back_as_the_same_instant_in_utc(engine):
    local = datetime(2026, 12, 1, 3, 0, 0, 123456, tzinfo=SHANGHAI)   # 1 Dec 03:00 in Shanghai
    with engine.begin() as c:
        c.execute(moments.insert().values(id=1, at=local))
        c.execute(moments.insert().values(id=2, at=None))
    at, none = _read(engine)
    assert at == local
    assert at.utcoffset() == timedelta(0) and at.tzinfo == timezone.utc
    assert at == datetime(2026, 11, 30, 19, 0, 0, 123456, tzinfo=timezone.utc)
    assert none is None


def test_a_month_window_in_shanghai_finds_the_first_hours_of_the_month(engine):
    """03:00 Shanghai on 1 November is 19:00 UTC on 31 October: inside November's window."""
    with engine.begin() as c:
        c.execute(moments.insert().values(id=1, at=datetime(2026, 11, 1, 3, tzinfo=SHANGHAI)))
        c.execute(moments.insert().values(id=2, at=datetime(2026, 10, 31, 23, 59, tzinfo=SHANGHAI)))
        c.execute(moments.insert().values(id=3, at=datetime(2026, 11, 30, 16, 30, tzinfo=timezone.utc)))
    start, end = datetime(2026, 11, 1, tzinfo=SHANGHAI), datetime(2026, 12, 1, tzinfo=SHANGHAI)
    with engine.connect() as c:
        ids = c.execute(select(moments.c.id).where(moments.c.at >= start, moments.c.at < end)
                        .order_by(moments.c.id)).scalars().all()
    assert ids == [1]


def test_a_naive_datetime_is_refused_with_a_clear_error(engine):
    with pytest.raises(StatementError) as e, engine.begin() as c:
        c.execute(moments.insert().values(id=1, at=datetime(2026, 12, 1, 9, 0)))
    assert isinstance(e.value.orig, NaiveDateTimeError)
    assert "naive" in str(e.value.orig) and "UTC offset" in str(e.value.orig)


def test_the_platform_clock_can_be_fixed_or_run_from_an_instant():
    at = datetime(2028, 2, 29, 7, 30, tzinfo=SHANGHAI)
    try:
        clock.set_clock(clock.fixed(at))
        assert utcnow() == at and utcnow().tzinfo == timezone.utc
        clock.set_clock(clock.running_from(at))
        assert at <= utcnow() < at + timedelta(minutes=1)
    finally:
        clock.set_clock(None)
    assert abs(utcnow() - datetime.now(timezone.utc)) < timedelta(minutes=1)
    with pytest.raises(ValueError):
        clock.fixed(datetime(2028, 2, 29))


def test_local_dates_and_months_are_the_branchs_not_utcs():
    from aftersales.localtime import local_date, month_of, month_window
    early = datetime(2026, 12, 31, 17, 30, tzinfo=timezone.utc)     # 1 January 01:30 in Shanghai
    assert local_date(early, "Asia/Shanghai").isoformat() == "2027-01-01"
    assert month_of(early, "Asia/Shanghai") == "2027-01" and month_of(early, "UTC") == "2026-12"
    start, end = month_window("2028-02", "Asia/Shanghai")
    assert start == datetime(2028, 1, 31, 16, tzinfo=timezone.utc)
    assert end == datetime(2028, 2, 29, 16, tzinfo=timezone.utc)           # 29 days: leap year
    assert month_window("2026-12", "Asia/Shanghai")[1] == datetime(2027, 1, 1, tzinfo=SHANGHAI)
