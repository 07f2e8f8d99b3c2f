"""SLA policy and the stored stage clocks, hand-worked (pure: no I/O)."""
from datetime import date, datetime, time, timedelta, timezone

import pytest

from services.dispatch.domain import clocks as ck
from services.dispatch.domain.policy import Policy, PolicyError, build_policy

CST = timezone(timedelta(hours=8))


def at(y, mo, d, h=0, mi=0, s=0, tz=CST):
    return datetime(y, mo, d, h, mi, s, tzinfo=tz)


DOC = {
    "holidays": ["2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05",
                 "2026-10-06", "2026-10-07"],
    "makeup_days": ["2026-10-10"],
    "branches": {"GZ": {"working_hours": {"mon": [["08:00", "12:00"], ["14:00", "18:00"]],
                                          "sat": [["09:00", "12:00"]]},
                        "targets": {"B": {"arrival": 12}}}},
}


# -- policy ----------------------------------------------------------------------------------
def test_defaults_are_the_product_table():
    p = build_policy("SH", "Asia/Shanghai")
    assert p.target("A", "resolution").hours == 24 and not p.target("A", "resolution").working
    assert p.target("C", "resolution").hours == 72 and p.target("C", "resolution").working
    assert p.at_risk_fraction == 0.8 and p.calendar.tz == "Asia/Shanghai"


def test_a_branch_section_overrides_hours_and_targets_and_keeps_the_rest():
    gz = build_policy("GZ", "Asia/Shanghai", DOC)
    assert gz.target("B", "arrival").hours == 12 and gz.target("B", "resolution").hours == 72
    assert gz.calendar.spans_on(date(2026, 11, 21)) == ((time(9), time(12)),)      # Saturday
    assert gz.calendar.spans_on(date(2026, 10, 2)) == ()                           # holiday
    assert date(2026, 10, 10) in gz.calendar.makeup_days
    sh = build_policy("SH", "Asia/Shanghai", DOC)
    assert sh.target("B", "arrival").hours == 24
    assert sh.calendar.spans_on(date(2026, 11, 21)) == ()


def test_a_test_override_in_seconds_wins():
    p = build_policy("SH", None, DOC, {"targets": {"B": {"response": {"seconds": 3}}},
                                      "at_risk_fraction": 0.5})
    assert p.target("B", "response").clock_seconds(p.calendar) == pytest.approx(3)
    assert p.at_risk_fraction == 0.5


@pytest.mark.parametrize("doc", [
    {"targets": {"B": {"lunch": 1}}},
    {"targets": {"B": {"response": {"minutes": 5}}}},
    {"targets": {"B": {"response": -1}}},
    {"working_hours": {"monday": [["08:00", "17:00"]]}},
    {"working_hours": {"mon": [["8h", "17:00"]]}},
    {"holidays": ["2026-13-01"]},
    {"at_risk_fraction": 1.5},
    {"targets": {"D": {"response": 1}}},          # a new priority must name every stage
])
def test_malformed_policies_are_refused(doc):
    with pytest.raises(PolicyError):
        build_policy("SH", None, doc)


# -- clocks ----------------------------------------------------------------------------------
POLICY = build_policy("SH", "Asia/Shanghai", DOC)


def _clocks(priority="B", received=at(2026, 11, 23, 9, 0)):
    return {c.stage: c for c in ck.open_clocks("SH-1", "SH", priority, received, POLICY)}


def test_clocks_open_with_deadlines_and_at_risk_marks():
    c = _clocks()
    assert c["response"].due_at == at(2026, 11, 23, 10, 0)
    assert c["response"].at_risk_at == at(2026, 11, 23, 9, 48)
    assert c["resolution"].due_at == at(2026, 11, 26, 9, 0)
    assert all(x.status == ck.OPEN for x in c.values())


def test_c_over_national_day_with_the_make_up_saturday():
    c = _clocks("C", at(2026, 9, 30, 17, 0))
    assert c["response"].due_at == at(2026, 10, 8, 17, 0)
    assert c["resolution"].due_at == at(2026, 10, 10, 17, 0)     # the make-up Saturday


def test_the_timer_raises_at_risk_then_breach_once_each():
    c = _clocks()["response"]
    assert ck.due_actions(c, at(2026, 11, 23, 9, 47)) == []
    assert ck.due_actions(c, at(2026, 11, 23, 9, 48)) == ["at_risk"]
    ck.raise_at_risk(c, at(2026, 11, 23, 9, 48))
    assert ck.due_actions(c, at(2026, 11, 23, 9, 59)) == []
    assert ck.due_actions(c, at(2026, 11, 23, 10, 0)) == ["breach"]
    ck.raise_breach(c, at(2026, 11, 23, 10, 0), ck.escalation("B", "SH-S001", "HQ-GM01"))
    assert ck.due_actions(c, at(2026, 11, 23, 12, 0)) == []
    assert (c.escalation_level, c.escalated_to) == ("supervisor", "SH-S001")


def test_a_clock_found_long_overdue_only_breaches():
    c = _clocks()["response"]
    assert ck.due_actions(c, at(2026, 11, 24, 9, 0)) == ["breach"]


def test_escalation_goes_to_the_general_manager_for_a_or_without_a_supervisor():
    assert ck.escalation("A", "SH-S001", "HQ-GM01") == ck.Escalation("general_manager", "HQ-GM01")
    assert ck.escalation("C", None, "HQ-GM01").level == "general_manager"
    assert ck.escalation("C", "GZ-S001", "HQ-GM01") == ck.Escalation("supervisor", "GZ-S001")


def test_completion_in_time_is_met_with_the_elapsed_clock_time():
    c = _clocks()["dispatch"]
    done = ck.complete(c, at(2026, 11, 23, 11, 30), POLICY, [])
    assert done == ck.Completion(met=True, elapsed_seconds=2.5 * 3600, newly_breached=False)
    assert c.status == ck.MET and c.completed_at == at(2026, 11, 23, 11, 30)
    assert ck.complete(c, at(2026, 11, 23, 12, 0), POLICY, []) is None     # once


def test_late_completion_is_a_new_breach_unless_the_timer_raised_it():
    late = _clocks()["response"]
    done = ck.complete(late, at(2026, 11, 23, 10, 1), POLICY, [])
    assert (done.met, done.newly_breached, late.status) == (False, True, ck.BREACHED)
    raised = _clocks()["response"]
    ck.raise_breach(raised, at(2026, 11, 23, 10, 0), ck.escalation("B", "S", "GM"))
    done = ck.complete(raised, at(2026, 11, 23, 10, 30), POLICY, [])
    assert (done.met, done.newly_breached) == (False, False)


def test_working_hours_elapsed_excludes_nights_and_pauses():
    c = _clocks("C", at(2026, 11, 20, 16, 0))["arrival"]          # Friday 16:00
    pauses = [(at(2026, 11, 23, 9, 0), at(2026, 11, 23, 10, 0))]   # Monday 1 h unreachable
    ck.recompute(c, "C", POLICY, pauses)
    done = ck.complete(c, at(2026, 11, 23, 11, 0), POLICY, pauses)
    # Fri 1.5 h + Mon 08:30–09:00 and 10:00–11:00 = 3 h of working time
    assert done.elapsed_seconds == 3 * 3600 and done.met


def test_a_pause_moves_the_deadline_and_an_open_pause_removes_it():
    c = _clocks()["response"]
    assert ck.recompute(c, "B", POLICY, [(at(2026, 11, 23, 9, 30), at(2026, 11, 23, 10, 0))])
    assert c.due_at == at(2026, 11, 23, 10, 30)
    ck.recompute(c, "B", POLICY, [(at(2026, 11, 23, 9, 30), None)])
    assert c.due_at is None and c.at_risk_at is None
    assert ck.due_actions(c, at(2026, 11, 24, 0, 0)) == []
    assert ck.board_state(c, at(2026, 11, 24)) == "paused"


def test_a_priority_change_recomputes_from_received_at_and_reports_change():
    c = _clocks("C")["resolution"]
    assert c.due_at == at(2026, 11, 26, 9, 0)
    assert ck.recompute(c, "A", POLICY, [])
    assert (c.priority, c.due_at, c.working) == ("A", at(2026, 11, 24, 9, 0), False)
    assert not ck.recompute(c, "A", POLICY, [])                    # nothing changed


def test_a_raised_breach_survives_a_priority_downgrade():
    c = _clocks("A")["response"]
    ck.raise_breach(c, at(2026, 11, 23, 10, 0), ck.escalation("A", "S", "GM"))
    ck.recompute(c, "C", POLICY, [])
    assert c.breached_at is not None and ck.due_actions(c, at(2026, 11, 30)) == []


def test_stopped_clocks_are_neither_met_nor_breached():
    c = _clocks()["resolution"]
    assert ck.stop(c, at(2026, 11, 23, 12, 0)) and c.status == ck.STOPPED
    assert not ck.stop(c, at(2026, 11, 23, 13, 0))
    assert ck.due_actions(c, at(2026, 12, 1)) == [] and not ck.recompute(c, "A", POLICY, [])


def test_board_states():
    c = _clocks()["response"]
    assert ck.board_state(c, at(2026, 11, 23, 9, 10)) == "running"
    assert ck.board_state(c, at(2026, 11, 23, 9, 50)) == "at_risk"
    assert ck.board_state(c, at(2026, 11, 23, 10, 5)) == "overdue"


def test_two_time_zones_in_policies():
    berlin = build_policy("DE", "Europe/Berlin", {"working_hours": {
        d: [["08:00", "16:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}})
    received = datetime(2026, 11, 23, 7, 0, tzinfo=timezone.utc)
    de = {c.stage: c for c in ck.open_clocks("DE-1", "DE", "C", received, berlin)}
    sh = {c.stage: c for c in ck.open_clocks("SH-1", "SH", "C", received, POLICY)}
    assert de["response"].due_at == datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)
    assert sh["response"].due_at == at(2026, 11, 24, 15, 0)


def test_policy_is_a_plain_value():
    assert isinstance(POLICY, Policy) and POLICY == build_policy("SH", "Asia/Shanghai", DOC)


def test_the_reference_policy_loads_for_every_branch():
    from aftersales.reference import branches
    from services.dispatch.adapters.policies import PolicyBook
    book = PolicyBook({})
    for code in branches():
        p = book.for_branch(code)
        assert p.target("C", "resolution").working and p.at_risk_fraction == 0.8
        assert date(2026, 10, 1) in p.calendar.holidays and date(2026, 10, 10) in p.calendar.makeup_days
    assert book.for_branch("GZ").calendar.spans_on(date(2026, 11, 21)) == ((time(9), time(12)),)
    assert book.general_manager == "HQ-GM01" and book.neighbours("SH") == ["HZ", "BJ"]
