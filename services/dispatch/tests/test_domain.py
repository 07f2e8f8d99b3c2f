"""Dispatch's pure domain: ranking, assignment, escalation, the job's state machine."""
from datetime import datetime, timedelta, timezone

import pytest

from services.dispatch.domain import model, roster
from services.dispatch.domain.roster import Engineer, Needs

T0 = datetime(2026, 11, 22, 1, 30, tzinfo=timezone.utc)

ROSTER = [
    Engineer("SH-E001", "李强", "SH", ("fault", "main_structure"), max_jobs=3),
    Engineer("SH-E002", "王磊", "SH", ("fault", "water_electrical"), max_jobs=3),
    Engineer("SH-E003", "陈静", "SH", ("maintenance",), max_jobs=4),
    Engineer("SH-E004", "刘洋", "SH", ("fault", "main_structure"), active=False),
    Engineer("SH-S001", "王建国", "SH", role=roster.SUPERVISOR, max_jobs=0),
]
STRUCTURE_FAULT = Needs("fault", "main_structure")


def ids(candidates):
    return [c.engineer_id for c in candidates]


def test_more_skills_matched_ranks_first_and_inactive_and_supervisors_are_left_out():
    ranking = roster.rank(ROSTER, {}, STRUCTURE_FAULT)
    assert ids(ranking) == ["SH-E001", "SH-E002", "SH-E003"]
    assert [c.matched for c in ranking] == [("fault", "main_structure"), ("fault",), ()]


def test_equal_skills_go_to_the_least_loaded_then_the_lowest_id():
    needs = Needs("fault")
    assert ids(roster.rank(ROSTER, {"SH-E001": 2, "SH-E002": 1}, needs))[:2] == ["SH-E002", "SH-E001"]
    assert ids(roster.rank(ROSTER, {"SH-E001": 1, "SH-E002": 1}, needs))[:2] == ["SH-E001", "SH-E002"]


def test_a_full_engineer_ranks_below_a_free_one_with_the_same_skills():
    twins = [Engineer("X-E001", "甲", "X", ("fault",), max_jobs=1),
             Engineer("X-E002", "乙", "X", ("fault",), max_jobs=5)]
    ranking = roster.rank(twins, {"X-E001": 1, "X-E002": 3}, Needs("fault"))
    assert ids(ranking) == ["X-E002", "X-E001"]
    assert [c.has_capacity for c in ranking] == [True, False]


def test_assign_picks_the_best_ranked_engineer_and_says_why():
    a = roster.assign(ROSTER, {"SH-E001": 1}, STRUCTURE_FAULT)
    assert a.assigned and a.engineer.engineer_id == "SH-E001" and a.escalated_to is None
    assert "技能匹配 fault、main_structure" in a.reason and "当前工单 1/3" in a.reason
    assert ids(a.ranking) == ["SH-E001", "SH-E002", "SH-E003"]


def test_a_full_best_match_hands_the_job_to_the_next_best():
    a = roster.assign(ROSTER, {"SH-E001": 3}, STRUCTURE_FAULT)
    assert a.engineer.engineer_id == "SH-E002"
    assert a.ranking[0].engineer_id == "SH-E001" and not a.ranking[0].has_capacity


def test_without_a_free_skilled_engineer_the_job_goes_to_a_free_one_and_the_reason_says_so():
    a = roster.assign(ROSTER, {"SH-E001": 3, "SH-E002": 3}, STRUCTURE_FAULT)
    assert a.engineer.engineer_id == "SH-E003"
    assert "无匹配技能" in a.reason


def test_nobody_free_escalates_to_the_branch_supervisor():
    a = roster.assign(ROSTER, {"SH-E001": 3, "SH-E002": 3, "SH-E003": 4}, STRUCTURE_FAULT)
    assert not a.assigned and a.escalated_to == "SH-S001"
    assert "满负荷" in a.reason and "王建国" in a.reason
    assert len(a.ranking) == 3


def test_a_branch_without_engineers_or_supervisor_escalates_to_hq():
    a = roster.assign([Engineer("X-E001", "甲", "X", ("fault",), active=False)], {}, Needs("fault"))
    assert a.escalated_to == roster.HQ_ESCALATION and "没有在岗工程师" in a.reason


def test_an_inactive_supervisor_is_not_escalated_to():
    people = [Engineer("X-S001", "甲", "X", role=roster.SUPERVISOR, active=False),
              Engineer("X-S002", "乙", "X", role=roster.SUPERVISOR)]
    assert roster.assign(people, {}, Needs("fault")).escalated_to == "X-S002"


def _job(assignment):
    return model.Job.open("SH-20261122-0001", "SH", "B", STRUCTURE_FAULT, T0, assignment, T0)


def test_an_assigned_job_goes_accepted_on_site_completed():
    job = _job(roster.assign(ROSTER, {}, STRUCTURE_FAULT))
    assert (job.status, job.engineer_id, job.engineer_name) == ("assigned", "SH-E001", "李强")
    job.accept(T0 + timedelta(minutes=10))
    assert job.status == "accepted"
    job.check_in(T0 + timedelta(hours=3))
    assert job.status == "on_site" and job.is_open
    job.complete(T0 + timedelta(hours=5), "更换檩条两根", [{"sku": "GJ-LT-C160", "quantity": 2}])
    # completed waits for the customer's sign-off: still open, no longer the engineer's load
    assert job.status == "completed" and job.is_open and job.status not in model.BUSY_STATES
    job.sign_off(True, T0 + timedelta(hours=6))
    assert job.status == "closed" and not job.is_open and job.first_time_fix()
    assert job.summary == "更换檩条两根" and job.parts_used[0]["quantity"] == 2


def _do(job, step):
    if step == "complete":
        job.complete(T0, "已处理", [])
    else:
        getattr(job, step)(T0)


@pytest.mark.parametrize("steps,then,state", [
    ([], "check_in", "assigned"),
    ([], "complete", "assigned"),
    (["accept"], "accept", "accepted"),
    (["accept"], "complete", "accepted"),
    (["accept", "check_in"], "accept", "on_site"),
    (["accept", "check_in", "complete"], "check_in", "completed"),
])
def test_steps_out_of_order_are_refused_with_a_clear_message(steps, then, state):
    job = _job(roster.assign(ROSTER, {}, STRUCTURE_FAULT))
    for step in steps:
        _do(job, step)
    with pytest.raises(model.InvalidTransition) as exc:
        _do(job, then)
    assert f"it is {state!r}" in str(exc.value) and job.ticket_no in str(exc.value)
    assert job.status == state


def test_an_escalated_job_cannot_be_accepted():
    job = _job(roster.assign(ROSTER, {"SH-E001": 3, "SH-E002": 3, "SH-E003": 4}, STRUCTURE_FAULT))
    assert (job.status, job.engineer_id, job.escalated_to) == ("escalated", None, "SH-S001")
    with pytest.raises(model.InvalidTransition):
        job.accept(T0)
