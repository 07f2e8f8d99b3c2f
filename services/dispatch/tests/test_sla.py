"""SLA calculation against hand-worked cases (pure: no I/O), through the clocks dispatch opens
and completes (``clocks.open_clocks``, ``clocks.complete``, ``clocks.board_state``)."""
from datetime import date, datetime, time, timedelta, timezone

import pytest

from services.dispatch.domain import clocks as ck
from services.dispatch.domain import sla
from services.dispatch.domain.policy import Policy

CST = timezone(timedelta(hours=8))
SH = sla.Calendar()   # Asia/Shanghai, Mon–Fri 08:30–12:00 and 13:00–17:30 (8 h a day)


def at(y, mo, d, h=0, mi=0, tz=CST):
    return datetime(y, mo, d, h, mi, tzinfo=tz)


def deadlines(received_at, priority, calendar, pauses=()) -> dict[str, ck.StageClock]:
    """Every stage's clock as dispatch opens it, by stage (due_at, at_risk_at)."""
    policy = Policy(calendar)
    return {c.stage: c for c in ck.open_clocks("SH-1", "SH", priority, received_at, policy,
                                               pauses)}


def outcome(clock: ck.StageClock, completed_at) -> str:
    """'met' or 'breached' for the stage completed at ``completed_at``."""
    done = ck.complete(ck.StageClock(**vars(clock)), completed_at, Policy(SH), [])
    return "met" if done.met else "breached"


def test_a_priority_runs_round_the_clock():
    # received Saturday 23:30: A has response 1 h, dispatch 2 h, arrival 12 h, resolution 24 h
    d = deadlines(at(2026, 11, 21, 23, 30), "A", SH)
    assert d["response"].due_at == at(2026, 11, 22, 0, 30)
    assert d["dispatch"].due_at == at(2026, 11, 22, 1, 30)
    assert d["arrival"].due_at == at(2026, 11, 22, 11, 30)
    assert d["resolution"].due_at == at(2026, 11, 22, 23, 30)
    # at risk at 80 %: 48 minutes into the hour
    assert d["response"].at_risk_at == at(2026, 11, 22, 0, 18)


def test_b_resolution_is_72_hours():
    d = deadlines(at(2026, 11, 20, 16, 0), "B", SH)
    assert d["resolution"].due_at == at(2026, 11, 23, 16, 0)
    assert d["arrival"].due_at == at(2026, 11, 21, 16, 0)


def test_c_counts_working_hours_only_over_a_weekend():
    # Friday 16:00: 1.5 h left on Friday; a working day is 8 h.
    d = deadlines(at(2026, 11, 20, 16, 0), "C", SH)
    # response (1 working day = 8 h): Fri 1.5 h + Mon 08:30–12:00 (3.5 h) + 13:00–16:00 (3 h)
    assert d["response"].due_at == at(2026, 11, 23, 16, 0)
    # resolution (3 working days = 24 h): Fri 1.5 h + Mon 8 h + Tue 8 h + Wed 6.5 h → Wed 16:00
    assert d["resolution"].due_at == at(2026, 11, 25, 16, 0)
    # at risk: 80 % of 8 h = 6.4 h: Fri 1.5 h + Mon 3.5 h + 1.4 h after 13:00 → Mon 14:24
    assert d["response"].at_risk_at == at(2026, 11, 23, 14, 24)


def test_a_request_received_outside_hours_starts_at_the_next_opening():
    d = deadlines(at(2026, 11, 21, 10, 0), "C", SH)   # Saturday
    # clock starts Monday 08:30; 8 working hours later is Monday 17:30
    assert d["response"].due_at == at(2026, 11, 23, 17, 30)


def test_holidays_do_not_count_and_make_up_days_do():
    # National Day week 2026: Oct 1–7 holidays; Sat Oct 10 is a make-up working day.
    cal = sla.Calendar(holidays=frozenset(date(2026, 10, d) for d in range(1, 8)),
                       makeup_days=frozenset({date(2026, 10, 10)}))
    d = deadlines(at(2026, 9, 30, 17, 0), "C", cal)
    # Sep 30: 0.5 h; Oct 1–7 none; Thu 8th: 8 h → response (8 h) due Thu Oct 8 17:00
    assert d["response"].due_at == at(2026, 10, 8, 17, 0)
    # 24 h: 0.5 + 8 (Thu) + 8 (Fri) + 7.5 on the make-up Saturday → Sat Oct 10 17:00
    assert d["resolution"].due_at == at(2026, 10, 10, 17, 0)
    # without the make-up day it would be Monday Oct 12 17:00
    plain = sla.Calendar(holidays=cal.holidays)
    assert deadlines(at(2026, 9, 30, 17, 0), "C", plain)["resolution"].due_at == at(2026, 10, 12, 17, 0)


def test_overnight_working_hours():
    # a night-shift branch: 22:00–06:00 every day (8 h)
    night = sla.Calendar(week={d: ((time(22, 0), time(6, 0)),) for d in range(7)})
    # received Monday 05:00: 1 h left of Sunday night's shift, then from 22:00 Monday
    d = deadlines(at(2026, 11, 23, 5, 0), "C", night)
    assert d["response"].due_at == at(2026, 11, 24, 5, 0)   # 1 h + 7 h of Monday night
    assert sla.clock_seconds(at(2026, 11, 23, 5, 0), at(2026, 11, 24, 0, 0), night) == 3 * 3600


def test_two_time_zones_read_their_own_calendars():
    berlin = sla.Calendar(tz="Europe/Berlin", week={d: ((time(8, 0), time(16, 0)),) for d in range(5)})
    received = datetime(2026, 11, 23, 7, 0, tzinfo=timezone.utc)   # 15:00 Shanghai, 08:00 Berlin
    sh = deadlines(received, "C", SH)["response"].due_at
    de = deadlines(received, "C", berlin)["response"].due_at
    # Shanghai: 2.5 h on Monday (15:00–17:30) + Tuesday 3.5 h (08:30–12:00) + 2 h → Tue 15:00 CST
    assert sh == at(2026, 11, 24, 15, 0)
    # Berlin: 8 h on Monday 08:00–16:00 CET → Mon 16:00 CET = 15:00 UTC
    assert de == datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)


def test_daylight_saving_change_is_respected():
    berlin = sla.Calendar(tz="Europe/Berlin", week={d: ((time(8, 0), time(16, 0)),) for d in range(7)})
    # Sunday 29 March 2026 clocks go forward: 08:00 CEST is 06:00 UTC (it was 07:00 UTC the day before)
    # from 15:00 CET Saturday (14:00 UTC): 1 h on Saturday, then Sunday from 08:00 CEST
    d = sla.add_clock_time(datetime(2026, 3, 28, 14, 0, tzinfo=timezone.utc), 2 * 3600, berlin)
    assert d == datetime(2026, 3, 29, 7, 0, tzinfo=timezone.utc)


def test_waiting_on_the_customer_pauses_the_clock():
    received = at(2026, 11, 23, 9, 0)
    pauses = [(at(2026, 11, 23, 9, 20), at(2026, 11, 23, 11, 20))]   # customer unreachable 2 h
    d = deadlines(received, "A", SH, pauses)
    assert d["response"].due_at == at(2026, 11, 23, 12, 0)          # 1 h + 2 h paused
    assert d["resolution"].due_at == at(2026, 11, 24, 11, 0)
    # an open-ended pause before the deadline: no deadline while it lasts
    d = deadlines(received, "A", SH, [(at(2026, 11, 23, 9, 50), None)])
    assert d["response"].due_at is None and d["response"].at_risk_at == at(2026, 11, 23, 9, 48)
    d = deadlines(received, "A", SH, [(at(2026, 11, 23, 9, 30), None)])
    assert d["response"].at_risk_at is None
    # a pause outside working hours changes nothing on a working-hours clock
    night = [(at(2026, 11, 23, 19, 0), at(2026, 11, 24, 7, 0))]
    assert deadlines(received, "C", SH, night) == deadlines(received, "C", SH)


def test_a_priority_change_recomputes_from_received_at():
    received = at(2026, 11, 23, 9, 0)
    before = deadlines(received, "C", SH)
    after = deadlines(received, "A", SH)
    # C: 24 working hours: Mon 7.5 h + Tue 8 h + Wed 8 h + Thu 0.5 h → Thu 09:00
    assert before["resolution"].due_at == at(2026, 11, 26, 9, 0)
    assert after["resolution"].due_at == at(2026, 11, 24, 9, 0)
    assert after["response"].due_at == at(2026, 11, 23, 10, 0)


def test_met_breached_at_risk():
    d = deadlines(at(2026, 11, 23, 9, 0), "A", SH)["response"]
    assert outcome(d, at(2026, 11, 23, 10, 0)) == "met"
    assert outcome(d, at(2026, 11, 23, 10, 1)) == "breached"
    assert ck.board_state(d, at(2026, 11, 23, 9, 47)) == "running"
    assert ck.board_state(d, at(2026, 11, 23, 9, 48)) == "at_risk"
    # open past its deadline: the board's "overdue" (the timer raises the breach then)
    assert ck.board_state(d, at(2026, 11, 23, 10, 0)) == "overdue"
    assert ck.due_actions(d, at(2026, 11, 23, 10, 0)) == ["breach"]


def test_elapsed_working_time():
    assert sla.clock_seconds(at(2026, 11, 20, 16, 0), at(2026, 11, 23, 10, 0), SH) == 3 * 3600
    assert sla.clock_seconds(at(2026, 11, 20, 16, 0), at(2026, 11, 23, 10, 0), None) == 66 * 3600


def test_unknown_priority():
    with pytest.raises(ValueError):
        deadlines(at(2026, 11, 23, 9, 0), "D", SH)


# -- the days when a calendar turns: year end, the first hours of a month, 29 February -------
UTC = timezone.utc


def test_c_over_new_year_skips_the_holiday_and_the_weekend():
    # Thu 31 Dec 2026 17:00: 0.5 h left; 1 Jan (Fri) a holiday, 2–3 Jan a weekend
    cal = sla.Calendar(holidays=frozenset({date(2027, 1, 1)}))
    d = deadlines(at(2026, 12, 31, 17, 0), "C", cal)
    # response 8 h: 0.5 h + Mon 4 Jan 08:30–12:00 (3.5 h) + 13:00–17:00 (4 h)
    assert d["response"].due_at == at(2027, 1, 4, 17, 0)
    # resolution 24 h: 0.5 + 8 (4 Jan) + 8 (5 Jan) + 7.5 (6 Jan) → Wed 6 Jan 17:00
    assert d["resolution"].due_at == at(2027, 1, 6, 17, 0)


def test_a_received_late_on_31_december_is_due_in_the_new_year():
    d = deadlines(at(2026, 12, 31, 23, 30), "A", SH)
    assert d["response"].due_at == at(2027, 1, 1, 0, 30)
    assert d["resolution"].due_at == at(2027, 1, 1, 23, 30)


def test_c_received_in_the_first_hours_of_a_month_counts_from_that_local_morning():
    # 30 Nov 19:00 UTC is Tue 1 Dec 03:00 in Shanghai: the clock starts at 08:30 on 1 Dec,
    # not on 30 Nov (the UTC date)
    d = deadlines(datetime(2026, 11, 30, 19, 0, tzinfo=UTC), "C", SH)
    assert d["response"].due_at == at(2026, 12, 1, 17, 30)
    assert d["resolution"].due_at == at(2026, 12, 3, 17, 30)


def test_c_over_29_february_counts_it_as_a_working_day():
    # Mon 28 Feb 2028 16:00: 1.5 h; Tue 29 Feb is a working day
    d = deadlines(at(2028, 2, 28, 16, 0), "C", SH)
    assert d["response"].due_at == at(2028, 2, 29, 16, 0)
    # 24 h: 1.5 + 8 (29 Feb) + 8 (1 Mar) + 6.5 (2 Mar) → Thu 2 Mar 16:00
    assert d["resolution"].due_at == at(2028, 3, 2, 16, 0)
