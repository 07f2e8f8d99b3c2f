"""Complaints and return visits: the rules, with an injected clock (no I/O)."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.feedback.domain import complaints as cp
from services.feedback.domain import visits as rv

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)


# -- complaints ------------------------------------------------------------------------------
@pytest.mark.parametrize("severity, hours", [("high", 24), ("medium", 72), ("low", 168)])
def test_deadline_by_severity(severity, hours):
    c = cp.register("SH-1", "SH", "agent", severity, "工程师态度恶劣", NOW)
    assert c.deadline == NOW + timedelta(hours=hours) and c.status == cp.OPEN


def test_an_overdue_complaint_escalates_one_level_per_missed_deadline_up_to_the_gm():
    c = cp.register("SH-1", "SH", "intake", "high", "三次维修仍漏水", NOW)
    assert not c.due_escalation(NOW + timedelta(hours=23))
    assert c.escalate(NOW + timedelta(hours=24)) == (1, "branch_manager")
    assert c.deadline == NOW + timedelta(hours=48)
    assert not c.due_escalation(NOW + timedelta(hours=47))
    assert c.escalate(NOW + timedelta(hours=48)) == (2, "general_manager")
    assert c.overdue(NOW + timedelta(days=30)) and not c.due_escalation(NOW + timedelta(days=30))
    with pytest.raises(cp.ComplaintError):
        c.escalate(NOW + timedelta(days=30))


def test_resolution_then_the_customers_confirmation_closes_or_reopens():
    c = cp.register("SH-1", "SH", "agent", "medium", "上门迟到", NOW, owner="主管王")
    c.add_note("agent:k", "已致电客户致歉", NOW)
    with pytest.raises(cp.ComplaintError):
        c.confirm(True, NOW)                        # nothing resolved yet
    c.resolve("dispatcher:k", "更换工程师，重新上门处理", NOW + timedelta(hours=5))
    assert not c.overdue(NOW + timedelta(days=10))   # resolved: the deadline no longer runs
    with pytest.raises(cp.ComplaintError):
        c.resolve("x", "again", NOW)
    c.confirm(False, NOW + timedelta(hours=6), "还是不满意")
    assert c.status == cp.OPEN and c.deadline == NOW + timedelta(hours=6 + 72)
    c.resolve("dispatcher:k", "经理上门沟通，赔偿处理", NOW + timedelta(hours=8))
    c.confirm(True, NOW + timedelta(hours=9))
    assert c.status == cp.CLOSED and c.satisfied is True
    with pytest.raises(cp.ComplaintError):
        c.add_note("x", "closed", NOW)
    assert [n["text"] for n in c.notes][:2] == ["已致电客户致歉", "还是不满意"]


def test_unknown_severity_is_refused():
    with pytest.raises(ValueError):
        cp.register("SH-1", "SH", "agent", "urgent", "x", NOW)


# -- return visits ---------------------------------------------------------------------------
def job(**kw) -> rv.JobFacts:
    base = dict(ticket_no="SH-20260131-0001", branch="SH", category="fault", priority="C",
                customer={"name": "上海宝钢钢构有限公司", "contact_name": "张伟", "phone": "13812345678"},
                site={"address": "上海市宝山区富锦路885号", "project": "宝山物流园三期厂房",
                      "contract_no": "HT-2019-0618"},
                asset={"serial_no": "SH-GJ-2019-0001", "model": "钢结构厂房主体",
                       "component": "屋面檩条"},
                engineer_id="E-SH-007", completed_at=datetime(2026, 1, 31, 2, tzinfo=timezone.utc),
                closed_at=datetime(2026, 1, 31, 3, tzinfo=timezone.utc))
    base.update(kw)
    return rv.JobFacts(**base)


def test_add_months_clamps_to_the_end_of_the_month():
    d = datetime(2026, 1, 31, 2, tzinfo=timezone.utc)
    assert rv.add_months(d, 1) == datetime(2026, 2, 28, 2, tzinfo=timezone.utc)
    assert rv.add_months(d, 3) == datetime(2026, 4, 30, 2, tzinfo=timezone.utc)
    assert rv.add_months(datetime(2027, 11, 30), 3) == datetime(2028, 2, 29)
    assert rv.add_months(datetime(2026, 8, 15), 6) == datetime(2027, 2, 15)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1)),
       st.integers(0, 120))
def test_add_months_lands_in_the_right_month_never_later_in_it(d, n):
    r = rv.add_months(d, n)
    assert (r.year * 12 + r.month) - (d.year * 12 + d.month) == n
    assert r.day <= d.day and r.time() == d.time()


def test_visits_1_3_6_months_after_completion_with_stable_keys():
    visits = rv.after_completion(job())
    assert [v.due_at.date().isoformat() for v in visits] == ["2026-02-28", "2026-04-30", "2026-07-31"]
    assert [v.key for v in visits] == [f"SH-20260131-0001:after:{m}" for m in (1, 3, 6)]
    assert all(v.kind == rv.AFTER_COMPLETION and v.status == rv.SCHEDULED for v in visits)
    assert len(rv.after_completion(job(), months=(2,))) == 1
    assert visits[0].is_due(datetime(2026, 2, 28, 2, tzinfo=timezone.utc))
    assert not visits[0].is_due(datetime(2026, 2, 28, 1, tzinfo=timezone.utc))


SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("completed_local, due_local", [
    # the first hours of the 1st: UTC is still in the month before
    ((2026, 12, 1, 3, 0), [(2027, 1, 1, 3, 0), (2027, 3, 1, 3, 0), (2027, 6, 1, 3, 0)]),
    # 31 December, before 08:00 local: UTC is 30 December
    ((2026, 12, 31, 7, 30), [(2027, 1, 31, 7, 30), (2027, 3, 31, 7, 30), (2027, 6, 30, 7, 30)]),
    # 31 January of a leap year: the month after ends on 29 February (UTC would give 1 March)
    ((2028, 1, 31, 3, 0), [(2028, 2, 29, 3, 0), (2028, 4, 30, 3, 0), (2028, 7, 31, 3, 0)]),
    # 29 February itself, before 08:00 local
    ((2028, 2, 29, 0, 30), [(2028, 3, 29, 0, 30), (2028, 5, 29, 0, 30), (2028, 8, 29, 0, 30)]),
])
def test_visits_fall_on_the_same_local_day_months_later_in_the_branchs_time_zone(
        completed_local, due_local):
    done = datetime(*completed_local, tzinfo=SHANGHAI).astimezone(timezone.utc)
    visits = rv.after_completion(job(completed_at=done, closed_at=done), tz="Asia/Shanghai")
    assert [v.due_at for v in visits] == [datetime(*d, tzinfo=SHANGHAI) for d in due_local]
    assert all(v.due_at.tzinfo == timezone.utc for v in visits)


def test_a_visit_outcome_is_recorded_once_and_a_problem_gets_a_request_id():
    v = rv.after_completion(job())[0]
    with pytest.raises(ValueError):
        v.record("fine", "agent:k", NOW)
    v.record("problem_found", "agent:k", NOW, "屋面又有渗水")
    assert v.status == rv.DONE and v.request_id == f"RV-REQ-{v.visit_id}"
    with pytest.raises(rv.VisitError):
        v.record("ok", "agent:k", NOW)
    ok = rv.after_completion(job())[1]
    ok.record("ok", "agent:k", NOW)
    assert ok.request_id is None


def test_the_request_of_a_problem_follows_the_phone_center_contract():
    from aftersales.contracts.events import RepairRequested
    v = rv.after_completion(job())[0]
    v.record("problem_found", "agent:k", NOW)
    body = rv.repair_request(v, job(), "天沟接缝处渗水", NOW, category="fault", priority="B")
    req = RepairRequested.model_validate(body)
    assert (req.source, req.request_id, req.branch, req.priority) == \
        ("return_visit", v.request_id, "SH", "B")
    assert req.customer.contact_name == "张伟" and req.site.project == "宝山物流园三期厂房"
    assert "天沟接缝处渗水" in req.fault.description and "SH-20260131-0001" in req.fault.description
    assert req.received_at == NOW


ROOF = rv.Plan("rainy-season-roof", "雨季屋面防水检查", rv.SEASONAL, month=5, day=15,
               keywords=("屋面", "防水"))
ANNUAL = rv.Plan("annual", "年度回访", rv.ANNUAL, month=3, categories=("installation",))


def test_seasonal_plan_visits_each_matching_project_once_on_its_date():
    a = job()
    a2 = job(ticket_no="SH-2", closed_at=datetime(2026, 3, 1, tzinfo=timezone.utc))  # same project
    other = job(ticket_no="SH-3", site={"address": "杭州", "contract_no": "HT-2"},
                asset={"component": "配电柜"})
    late = job(ticket_no="SH-4", site={"address": "x", "contract_no": "HT-3"},
               closed_at=datetime(2026, 6, 1, tzinfo=timezone.utc))             # after the date
    visits = rv.plan_visits(ROOF, 2026, [a, a2, other, late])
    assert [(v.ticket_no, v.key) for v in visits] == [("SH-2", "rainy-season-roof:2026:SH:HT-2019-0618")]
    assert visits[0].due_at.isoformat() == "2026-05-15T09:00:00+08:00"
    assert visits[0].kind == rv.SEASONAL and visits[0].plan_id == "rainy-season-roof"


def test_annual_plan_visits_projects_delivered_the_year_before():
    delivered = job(category="installation", closed_at=datetime(2025, 12, 31, 17, tzinfo=timezone.utc))
    # 2025-12-31 17:00 UTC is 2026-01-01 01:00 in Shanghai: delivered in 2026, not 2025
    new_year = job(ticket_no="SH-9", category="installation",
                   site={"address": "y", "contract_no": "HT-9"},
                   closed_at=datetime(2025, 6, 1, tzinfo=timezone.utc))
    repair = job(ticket_no="SH-8", site={"address": "z"}, closed_at=datetime(2025, 6, 1, tzinfo=timezone.utc))
    visits = rv.plan_visits(ANNUAL, 2026, [delivered, new_year, repair])
    assert [v.ticket_no for v in visits] == ["SH-9"]
    assert [v.ticket_no for v in rv.plan_visits(ANNUAL, 2027, [delivered])] == [delivered.ticket_no]


def test_plan_definitions_are_checked_field_by_field():
    errors = {e["field"] for e in rv.plan_errors({"kind": "weekly", "month": 13, "day": 0,
                                                  "keywords": "屋面", "active": "yes"})}
    assert errors == {"name", "kind", "month", "day", "keywords", "active"}
    assert rv.plan_errors({"name": "雨季检查", "kind": "seasonal", "month": 5}) == []


def test_the_shipped_plans_are_valid():
    from pathlib import Path
    from services.feedback.seed import load_plans
    plans = load_plans(Path(__file__).resolve().parents[3] / "deploy" / "reference" / "visit_plans.json")
    assert plans["rainy-season-roof"]["kind"] == "seasonal"


def test_a_problem_at_the_limit_fills_the_phone_center_description_exactly():
    from aftersales.contracts.common import Fault
    assert Fault.model_json_schema()["properties"]["description"]["maxLength"] == rv.FAULT_MAX
    job = rv.JobFacts("SH-20261122-000123", "SH", closed_at=NOW)
    [v, *_] = rv.after_completion(job)
    limit = rv.problem_limit(v, job.ticket_no)
    body = rv.repair_request(v, job, "渗" * limit, NOW)
    assert len(body["fault"]["description"]) == rv.FAULT_MAX
    assert body["fault"]["description"].startswith("回访发现问题（1 个月回访，原工单 SH-20261122-000123）")


def test_a_plan_name_longer_than_its_visits_labels_hold_is_refused():
    plan = {"name": "检" * rv.PLAN_NAME_MAX, "kind": "seasonal", "month": 5}
    assert rv.plan_errors(plan) == []
    assert rv.plan_errors({**plan, "name": "检" * (rv.PLAN_NAME_MAX + 1)}) == [
        {"field": "name", "message": f"is longer than {rv.PLAN_NAME_MAX} characters"}]
