"""Working hours as a branch writes them: spans out of order are sorted, overlapping ones
merged (also an overnight span running into the next morning), malformed ones refused at load
naming the branch and the day. Hand-worked deadlines (SH, Asia/Shanghai, Monday 2026-11-23)."""
from datetime import datetime, time, timedelta, timezone

import pytest

from services.dispatch.domain import clocks as ck
from services.dispatch.domain.policy import PolicyError, build_policy, parse_week
from services.dispatch.domain.sla import Calendar, add_clock_time, clock_seconds

CST = timezone(timedelta(hours=8))
MON = datetime(2026, 11, 23, tzinfo=CST)          # a Monday, no holiday


def at(days: int, hh: int, mm: int = 0) -> datetime:
    return MON + timedelta(days=days, hours=hh, minutes=mm)


def test_spans_listed_out_of_order_give_the_same_deadline_as_in_order():
    policy = build_policy("SH", "Asia/Shanghai", {"working_hours": {
        d: [["13:00", "17:30"], ["08:30", "12:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}})
    assert policy.calendar.week[0] == ((time(8, 30), time(12, 0)), (time(13, 0), time(17, 30)))
    # C response: 8 working hours from Monday 08:30 = 3.5 h before lunch + 4.5 h after
    d = {c.stage: c for c in ck.open_clocks("SH-1", "SH", "C", at(0, 8, 30), policy)}
    assert d["response"].due_at == at(0, 17, 30)                  # not Monday 12:00
    assert d["response"].at_risk_at == at(0, 15, 54)              # 6.4 h: 3.5 + 2.9


def test_a_calendar_built_with_unsorted_spans_still_counts_in_time_order():
    cal = Calendar(week={0: ((time(13, 0), time(17, 30)), (time(8, 30), time(12, 0)))})
    assert add_clock_time(at(0, 8, 30), 8 * 3600, cal) == at(0, 17, 30)
    assert clock_seconds(at(0, 8, 30), at(0, 17, 30), cal) == 8 * 3600


def test_an_overnight_span_overlapping_the_next_morning_counts_each_hour_once():
    # Monday 22:00–09:00 (overnight) and Tuesday 08:00–12:00 overlap 08:00–09:00 on Tuesday:
    # one stretch Monday 22:00 – Tuesday 12:00, 14 h
    cal = build_policy("SH", "Asia/Shanghai", {"working_hours": {
        "mon": [["22:00", "09:00"]], "tue": [["08:00", "12:00"]]}}).calendar
    assert clock_seconds(at(0, 22), at(1, 12), cal) == 14 * 3600          # not 15 h
    assert add_clock_time(at(0, 22), 13 * 3600, cal) == at(1, 11)         # not Tuesday 10:00
    assert add_clock_time(at(0, 22), 14 * 3600 + 1, cal) > at(1, 12)      # next stretch: next week


def test_overlapping_spans_of_one_day_are_merged_and_the_day_length_counts_them_once():
    week = parse_week({"mon": [["08:00", "12:00"], ["11:00", "14:00"], ["14:00", "15:00"]]})
    assert week[0] == ((time(8, 0), time(15, 0)),)
    assert Calendar(week=week).standard_day_seconds == 7 * 3600
    raw = Calendar(week={0: ((time(8, 0), time(12, 0)), (time(11, 0), time(14, 0)))})
    assert raw.standard_day_seconds == 6 * 3600                         # not 7 h
    assert parse_week({"sun": [["00:00", "24:00"]]})[6] == ((time(0, 0), time(0, 0)),)  # all day


@pytest.mark.parametrize("hours, message", [
    ({"mon": [["25:00", "12:00"]]}, "working_hours.mon"),
    ({"tue": [["08:60", "12:00"]]}, "working_hours.tue"),
    ({"wed": [["08:00"]]}, "working_hours.wed"),
    ({"fri": "08:00-12:00"}, "working_hours.fri"),
    ({"sat": [["00:00", "24:00"], ["23:00", "02:00"]]}, "more than 24 hours"),
    ({"monday": [["08:00", "12:00"]]}, "unknown day 'monday'"),
])
def test_malformed_working_hours_are_refused_naming_the_branch_and_the_day(hours, message):
    with pytest.raises(PolicyError, match=message) as err:
        build_policy("GZ", "Asia/Shanghai", {"branches": {"GZ": {"working_hours": hours}}})
    assert "branch GZ" in str(err.value) and "branches.GZ" in str(err.value)
