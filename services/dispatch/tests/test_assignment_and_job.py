"""Assignment by skill, shift, leave, workload, zone and priority; escalation with neighbour
offers; roster field parsing; the whole job lifecycle (pure: no I/O)."""
from datetime import datetime, timedelta, timezone

import pytest

from services.dispatch.domain import model, quotes, roster
from services.dispatch.domain.roster import Engineer, Needs
from services.dispatch.domain.policy import shift_calendar
from services.dispatch.domain.roster import calendar_doc, parse_leave, parse_shift, parse_skills
from services.dispatch.seed import engineer_from_row

CST = timezone(timedelta(hours=8))
MON_10 = datetime(2026, 11, 23, 10, 0, tzinfo=CST)
MON_20 = datetime(2026, 11, 23, 20, 0, tzinfo=CST)
DAY = shift_calendar(parse_shift("mon-fri 08:30-12:00,13:00-17:30"))
NIGHT = shift_calendar(parse_shift("mon-sun 17:00-09:00"))
FAULT = Needs("fault", "main_structure")


def ids(cs):
    return [c.engineer_id for c in cs]


# -- roster parsing ---------------------------------------------------------------------------
def test_skills_with_levels():
    assert parse_skills("fault:3;main_structure:2; maintenance") == (
        ("fault", "main_structure", "maintenance"), {"fault": 3, "main_structure": 2})
    for bad in ("fault:9", "fault:x", ":2"):
        with pytest.raises(ValueError):
            parse_skills(bad)


def test_shifts_days_ranges_and_overnight():
    doc = parse_shift("mon-fri 08:30-12:00,13:00-17:30; sat 9:00-12:00")
    assert doc["mon"] == [["08:30", "12:00"], ["13:00", "17:30"]] and doc["sat"] == [["09:00", "12:00"]]
    assert "sun" not in doc and parse_shift("") is None
    assert parse_shift("fri-mon 22:00-06:00").keys() == {"fri", "sat", "sun", "mon"}
    assert calendar_doc(shift_calendar(doc)) == doc
    for bad in ("monday 08:00-17:00", "mon-fri", "mon 08:00"):
        with pytest.raises(ValueError):
            parse_shift(bad)


def test_leave_is_whole_days_in_the_branch_time_zone():
    [(a, b)] = parse_leave("2026-11-24..2026-11-26")
    assert a == datetime(2026, 11, 24, tzinfo=CST) and b == datetime(2026, 11, 27, tzinfo=CST)
    with pytest.raises(ValueError):
        parse_leave("2026-11-26..2026-11-24")


def test_a_roster_row_reports_what_is_wrong():
    row = {"engineer_id": "SH-E009", "name": "赵敏", "branch": "SH", "role": "engineer",
           "skills": "fault:4", "active": "true", "max_jobs": "3", "zone": "浦东",
           "shift": "mon-fri 08:30-17:30", "leave": "2026-12-01"}
    e = engineer_from_row(row, {"SH": {"timezone": "Asia/Shanghai"}})
    assert (e.name, e.level("fault"), e.zone) == ("赵敏", 4, "浦东") and e.shift is not None
    for change, message in ((dict(branch="XX"), "unknown branch"), (dict(max_jobs="三"), "max_jobs"),
                            (dict(role="boss"), "role"), (dict(name=""), "name is required"),
                            (dict(active="maybe"), "active"), (dict(shift="mon"), "shift")):
        with pytest.raises(ValueError, match=message):
            engineer_from_row({**row, **change}, {"SH": {}})


# -- availability ------------------------------------------------------------------------------
def test_on_shift_and_on_leave():
    e = Engineer("E1", "甲", "SH", ("fault",), shift=DAY,
                 leave=parse_leave("2026-11-24"))
    assert e.on_shift(MON_10) and not e.on_shift(MON_20)
    assert not e.on_leave(MON_10) and e.on_leave(MON_10 + timedelta(days=1))
    night = Engineer("E2", "乙", "SH", shift=NIGHT)
    assert night.on_shift(MON_20) and night.on_shift(MON_10 - timedelta(hours=2)) and not night.on_shift(MON_10)


ROSTER = [
    Engineer("SH-E001", "李强", "SH", ("fault", "main_structure"), levels={"fault": 2}, shift=DAY,
             zone="宝山"),
    Engineer("SH-E002", "王磊", "SH", ("fault", "main_structure"), levels={"fault": 4}, shift=DAY,
             zone="浦东"),
    Engineer("SH-E003", "陈静", "SH", ("fault", "main_structure"), shift=NIGHT, zone="宝山"),
    Engineer("SH-S001", "王建国", "SH", role=roster.SUPERVISOR, max_jobs=0),
]
SITE = "上海市宝山区富锦路885号"


def test_c_prefers_the_higher_skill_level():
    a = roster.assign(ROSTER, {}, FAULT, now=MON_10, priority="C", site=SITE)
    assert a.engineer.engineer_id == "SH-E002" and "等级 5" in a.reason


def test_a_and_b_prefer_on_shift_then_zone_then_workload():
    a = roster.assign(ROSTER, {}, FAULT, now=MON_10, priority="A", site=SITE)
    assert a.engineer.engineer_id == "SH-E001"            # on shift, in 宝山
    assert "常驻片区与现场一致" in a.reason
    assert ids(a.ranking) == ["SH-E001", "SH-E002", "SH-E003"]     # E003 is off shift at 10:00
    night = roster.assign(ROSTER, {}, FAULT, now=MON_20, priority="A", site=SITE)
    assert night.engineer.engineer_id == "SH-E003"        # the night shift
    busy = roster.assign(ROSTER, {"SH-E001": 3}, FAULT, now=MON_10, priority="B", site=SITE)
    assert busy.engineer.engineer_id == "SH-E002"


def test_off_shift_is_used_when_nobody_on_shift_can_and_the_reason_says_so():
    a = roster.assign(ROSTER[:2] + ROSTER[3:], {}, FAULT, now=MON_20, priority="B", site=SITE)
    assert a.engineer.engineer_id == "SH-E001" and "当前不在班" in a.reason


def test_leave_takes_an_engineer_out_and_escalation_says_so():
    on_leave = [Engineer(e.engineer_id, e.name, e.branch, e.skills, max_jobs=e.max_jobs, role=e.role,
                         leave=parse_leave("2026-11-23")) for e in ROSTER]
    a = roster.assign(on_leave, {}, FAULT, now=MON_10, priority="B")
    assert not a.assigned and a.escalated_to == "SH-S001" and "休假" in a.reason
    one_back = on_leave[:2] + [ROSTER[2]] + on_leave[3:]
    assert roster.assign(one_back, {}, FAULT, now=MON_10).engineer.engineer_id == "SH-E003"


def test_escalation_offers_free_engineers_of_neighbouring_branches():
    hz = [Engineer("HZ-E001", "周杰", "HZ", ("fault",)), Engineer("HZ-E002", "吴刚", "HZ", ("fault",), max_jobs=1)]
    a = roster.assign(ROSTER, {"SH-E001": 3, "SH-E002": 3, "SH-E003": 3}, FAULT, now=MON_10,
                     priority="B", neighbours=hz, neighbour_workload={"HZ-E002": 1})
    assert not a.assigned and ids(a.offered) == ["HZ-E001"]
    assert "满负荷" in a.reason and "HZ-E001（HZ）" in a.reason


def test_decliners_are_excluded_from_reassignment():
    a = roster.assign(ROSTER, {}, FAULT, now=MON_10, priority="A", site=SITE, exclude={"SH-E001"})
    assert a.engineer.engineer_id == "SH-E002"


# -- the job ---------------------------------------------------------------------------------
T0 = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)


def _job(in_warranty=True):
    return model.Job.open("SH-1", "SH", "B", FAULT, T0, roster.assign(ROSTER, {}, FAULT), T0,
                          in_warranty=in_warranty)


def test_the_whole_free_job_from_appointment_to_sign_off():
    job = _job()
    job.accept(T0)
    job.schedule(T0 + timedelta(hours=2), T0 + timedelta(hours=4))
    job.depart(T0 + timedelta(hours=2))
    assert job.check_in(T0 + timedelta(hours=3)) is True and job.visits == 1
    job.diagnose(quotes.Diagnosis("material", "supplier"))
    assert job.status == "diagnosed" and not job.chargeable
    with pytest.raises(model.InvalidTransition):
        job.issue_quote(quotes.Quote(10, 10, 10), T0)               # free: no quote
    job.report(T0 + timedelta(hours=5))
    job.complete(T0 + timedelta(hours=6), "更换锈蚀檩条", [])
    job.sign_off(True, T0 + timedelta(hours=7))
    assert job.status == "closed" and job.first_time_fix()


def test_paid_work_needs_an_approved_quote_before_work():
    job = _job(in_warranty=False)
    job.accept(T0)
    job.check_in(T0)
    with pytest.raises(model.InvalidTransition, match="not approved a quote"):
        job.complete(T0, "修好了", [])                              # not even without a diagnosis
    job.diagnose(quotes.Diagnosis("misuse", "customer"))
    assert job.chargeable
    with pytest.raises(model.InvalidTransition, match="not approved a quote"):
        job.complete(T0, "修好了", [])
    job.issue_quote(quotes.Quote(1200.5, 800, 150), T0)
    assert job.quote["total"] == "2150.50" and job.status == "quoted"
    job.decide_quote(False, T0, "agent-1")
    assert job.status == "diagnosed"                              # rejected: quote again
    job.issue_quote(quotes.Quote(1000, 800, 150), T0)
    job.decide_quote(True, T0, "agent-1")
    assert job.status == "in_progress"
    job.complete(T0, "修好了", [])
    assert job.status == "completed"


def test_an_unknown_asset_is_covered_until_the_diagnosis_voids_it():
    job = _job(in_warranty=None)
    assert not job.chargeable
    job.accept(T0)
    job.check_in(T0)
    job.diagnose(quotes.Diagnosis("force_majeure", "none", True, "台风损毁"))
    assert job.chargeable


def test_a_void_warranty_makes_in_warranty_work_paid_and_needs_its_reason():
    assert quotes.Diagnosis("misuse", "customer", True).validate()[0]["field"] == "void_reason"
    assert quotes.Diagnosis("rust", "x").validate()[0]["field"] == "cause"
    job = _job()
    job.accept(T0)
    job.check_in(T0)
    job.diagnose(quotes.Diagnosis("misuse", "customer", True, "私自改装"))
    assert job.chargeable


def test_a_rejected_sign_off_sends_the_job_back_for_rework():
    job = _job()
    job.accept(T0)
    job.check_in(T0)
    job.complete(T0, "处理完毕", [])
    job.sign_off(False, T0)
    assert job.status == "rework" and job.rework_count == 1 and job.status in model.BUSY_STATES
    assert job.check_in(T0 + timedelta(days=1)) is False and job.visits == 2   # not a new arrival
    job.complete(T0 + timedelta(days=1), "返工完成", [])
    job.sign_off(True, T0 + timedelta(days=1))
    assert job.status == "closed" and not job.first_time_fix()


def test_reassign_and_cancel():
    job = _job()
    job.decline("SH-E001")
    b = roster.assign(ROSTER, {}, FAULT, exclude=job.declined_by)
    job.reassign(b, T0)
    assert job.status == "assigned" and job.engineer_id != "SH-E001" and job.declined_by == ["SH-E001"]
    job.accept(T0)
    job.check_in(T0)
    with pytest.raises(model.InvalidTransition):
        job.reassign(b, T0)                                          # on site: not any more
    job.cancel(T0)
    assert job.status == "cancelled" and not job.is_open


def test_a_missing_daily_report_is_due_once_per_interval(database_urls):
    # one rule, the one the timer runs: JobRepository.reports_due (was also Job.report_overdue)
    from services.dispatch.adapters.repository import JobRepository
    from tests.support.fixtures import migrated_database
    job = _job()
    job.accept(T0)
    job.check_in(T0)
    with migrated_database(database_urls["dispatch"], "dispatch") as (_, factory), \
            factory() as session:
        jobs = JobRepository(session)
        jobs.add(job, "opened-1")

        def report_overdue(now, interval_seconds):
            cutoff = now - timedelta(seconds=interval_seconds)
            return job.ticket_no in {j.ticket_no for j in jobs.reports_due(cutoff)}

        assert not report_overdue(T0 + timedelta(hours=23), 86400)
        assert report_overdue(T0 + timedelta(hours=24), 86400)
        assert jobs.mark_reminded(job, T0 + timedelta(hours=24))    # the timer's reminder
        assert not report_overdue(T0 + timedelta(hours=30), 86400)
        assert report_overdue(T0 + timedelta(hours=48), 86400)
