"""The statistics' definitions, worked by hand (docs/feedback.md)."""
from datetime import datetime, timedelta, timezone

import pytest

from services.feedback.domain import stats
from services.feedback.domain.complaints import register
from services.feedback.domain.model import DIMENSIONS, Answer, Survey, issue_survey
from services.feedback.domain.visits import JobFacts

# 2026-11-01 00:00 in Shanghai is 2026-10-31 16:00 UTC
SH = "Asia/Shanghai"
NOV = datetime(2026, 11, 10, 4, tzinfo=timezone.utc)
OCT_LOCAL_LAST = datetime(2026, 10, 31, 15, 59, tzinfo=timezone.utc)
NOV_LOCAL_FIRST = datetime(2026, 10, 31, 16, 0, tzinfo=timezone.utc)


def answered(overall, recommend, at=NOV, engineer="E1", branch="SH", low_dim=None):
    s = issue_survey("T", branch, engineer, at - timedelta(days=1))
    scores = {d: 5 for d in DIMENSIONS}
    scores["overall"] = overall
    if low_dim:
        scores[low_dim] = 2
    return Survey(**{**s.__dict__, "answered_at": at, "answer": Answer(scores, recommend)})


def report(**kw):
    base = dict(surveys=[], jobs=[], sla=[], causes=[], parts=[], complaints=[], follow_ups=[],
                visits=[])
    base.update(kw)
    return stats.monthly_report("SH", "2026-11", tz="Asia/Shanghai", **base)


def test_month_window_is_the_branch_time_zone():
    start, end = stats.month_window("2026-11", SH)
    assert start == NOV_LOCAL_FIRST and end == datetime(2026, 11, 30, 16, tzinfo=timezone.utc)
    assert stats.month_window("2026-12", SH)[1].year == 2027
    assert stats.month_of(OCT_LOCAL_LAST, SH) == "2026-10"
    assert stats.month_of(NOV_LOCAL_FIRST, SH) == "2026-11"
    for bad in ("2026-13", "2026-1", "Nov", "2026/11", ""):
        with pytest.raises(ValueError, match="YYYY-MM"):
            stats.month_window(bad, SH)


def test_csat_nps_response_rate_by_hand():
    # 5 answered in November: overall 5, 4, 4, 3, 1 -> CSAT 3/5 = 60 %
    # recommend 10, 9, 7, 6, 0 -> promoters 2, detractors 2 -> NPS 0
    surveys = [answered(5, 10), answered(4, 9), answered(4, 7), answered(3, 6), answered(1, 0),
               answered(5, 10, at=OCT_LOCAL_LAST),       # October: not in November's figures
               answered(5, 10, branch="HZ")]             # another branch
    pending = [issue_survey("T", "SH", "E1", NOV) for _ in range(3)]
    r = report(surveys=surveys + pending)["surveys"]
    assert r["answered"] == 5 and r["csat"] == 60.0 and r["nps"] == 0.0
    assert r["average_overall"] == 3.4
    assert r["overall_distribution"] == {"1": 1, "2": 0, "3": 1, "4": 2, "5": 1}
    # issued in November: the 5 answered were issued a day before (November) + 3 pending;
    # the October one was issued in October
    assert r["issued"] == 8 and r["answered_of_issued"] == 5 and r["response_rate"] == 62.5


def test_nps_extremes_and_no_data_is_none():
    assert stats.nps([10, 9]) == 100.0 and stats.nps([0, 6]) == -100.0 and stats.nps([8, 7]) == 0.0
    assert stats.nps([]) is None
    r = report()
    assert r["surveys"]["csat"] is None and r["jobs"]["first_time_fix_rate"] is None
    assert r["sla"]["response"] == {"completed": 0, "met": 0, "adherence": None}


def test_first_time_fix_sla_causes_parts_complaints_by_hand():
    jobs = [JobFacts("A", "SH", engineer_id="E1", closed_at=NOV, first_time_fix=True, rework_count=0),
            JobFacts("B", "SH", engineer_id="E1", closed_at=NOV, first_time_fix=False, rework_count=2),
            JobFacts("C", "SH", engineer_id="E2", closed_at=NOV, first_time_fix=True, rework_count=0),
            JobFacts("D", "SH", engineer_id="E2", closed_at=OCT_LOCAL_LAST, first_time_fix=False)]
    sla = [stats.SlaFact("SH", "response", True, NOV), stats.SlaFact("SH", "response", False, NOV),
           stats.SlaFact("SH", "response", True, NOV), stats.SlaFact("SH", "arrival", True, NOV),
           stats.SlaFact("HZ", "arrival", False, NOV)]
    causes = [stats.CauseFact("SH", c, NOV) for c in
              ["material", "workmanship", "material", "design", "misuse", "environment",
               "installation", "workmanship", "material"]]
    parts = [stats.PartFact("SH", "X", 2, NOV), stats.PartFact("SH", "X", 3, NOV),
             stats.PartFact("SH", "Y", 1, NOV), stats.PartFact("SH", "Y", 9, OCT_LOCAL_LAST)]
    complaints = [register("A", "SH", "agent", "high", "x", NOV, engineer_id="E1"),
                  register("B", "SH", "intake", "low", "y", NOV)]
    complaints[0].resolve("m", "done", NOV)
    r = report(jobs=jobs, sla=sla, causes=causes, parts=parts, complaints=complaints,
               surveys=[answered(2, 3, engineer="E1"), answered(5, 10, engineer="E2")])
    assert r["jobs"] == {"closed": 3, "first_time_fix": 2, "first_time_fix_rate": 66.7, "rework": 2}
    assert r["sla"]["response"] == {"completed": 3, "met": 2, "adherence": 66.7}
    assert r["sla"]["arrival"] == {"completed": 1, "met": 1, "adherence": 100.0}
    # top five; ties by name
    assert [(c["cause"], c["count"]) for c in r["fault_causes"]] == [
        ("material", 3), ("workmanship", 2), ("design", 1), ("environment", 1), ("installation", 1)]
    assert r["parts"] == {"total_quantity": 6, "by_sku": [{"sku": "X", "quantity": 5},
                                                          {"sku": "Y", "quantity": 1}]}
    assert r["complaints"]["by_severity"] == {"low": 1, "medium": 0, "high": 1}
    assert r["complaints"]["resolved"] == 1 and r["complaints"]["closed_confirmed"] == 0
    e1, e2 = r["engineers"]
    assert (e1["engineer_id"], e1["jobs_closed"], e1["first_time_fix_rate"], e1["csat"],
            e1["complaints"]) == ("E1", 2, 50.0, 0.0, 1)
    assert (e2["engineer_id"], e2["jobs_closed"], e2["first_time_fix_rate"], e2["nps"]) == \
        ("E2", 1, 100.0, 100.0)
    rows = stats.report_rows(r)
    assert ["SH", "2026-11", "sla", "response", "adherence", 66.7] in rows
    assert ["SH", "2026-11", "engineer", "E1", "complaints", 1] in rows
