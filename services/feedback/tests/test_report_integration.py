"""The monthly quality report over a generated month of events (SQLite and PostgreSQL),
checked against an independent computation done here, from what the test itself sent."""
import csv
import io
import random
from collections import Counter
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tests.support.waiting import handled, wait_handled

from .support import (QUEUE, SERVICE, call, job_closed, job_diagnosed, parts_consumed, publish,
                      sla_completed, surveys, ticket, ticket_opened)

pytestmark = pytest.mark.integration

TZ = ZoneInfo("Asia/Shanghai")
DIMS = ("response_speed", "attitude", "professionalism", "effectiveness", "communication")
CAUSES = ("design", "material", "workmanship", "installation", "misuse", "environment")
SKUS = ("GJ-LS-M20", "DQ-DL-NXB63", "FS-JB-001")
ENGINEERS = ("E-SH-001", "E-SH-002", "E-SH-007")


def pct(n, d):
    return None if d == 0 else round(n * 100.0 / d, 1)


# "now" for the run, local (Shanghai) times at which the branch's date differs from UTC's:
# the first hours of a month, of a year (UTC still on 31 December), of a leap day and of the
# day after it, and the last evening of the year
NOWS = {
    "1st-of-month-07:30": datetime(2026, 12, 1, 7, 30, tzinfo=TZ),
    "new-year-06:00": datetime(2027, 1, 1, 6, 0, tzinfo=TZ),
    "31-december-07:00": datetime(2026, 12, 31, 7, 0, tzinfo=TZ),
    "29-february-2028-05:00": datetime(2028, 2, 29, 5, 0, tzinfo=TZ),
    "1-march-2028-00:30": datetime(2028, 3, 1, 0, 30, tzinfo=TZ),
}


@pytest.mark.parametrize("at", NOWS.values(), ids=NOWS.keys())
def test_monthly_report_equals_an_independent_computation(services, watcher, http, clock, at):
    now = clock.run_from(at)
    services.start("feedback")
    handled_before = handled(SERVICE, QUEUE)
    rnd = random.Random(20261123)
    local = now.astimezone(TZ)
    month = f"{local.year:04d}-{local.month:02d}"
    start = datetime(local.year, local.month, 1, tzinfo=TZ)
    span = max((now - timedelta(minutes=1) - start).total_seconds(), 1)

    def in_month():
        return start + timedelta(seconds=rnd.uniform(0, span))

    jobs, slas, causes, parts, sent = [], [], [], [], 0
    for i in range(14):
        t = ticket()
        eng = rnd.choice(ENGINEERS)
        ftf = rnd.random() < 0.7
        closed = in_month()
        job = {"ticket_no": t, "engineer": eng, "ftf": ftf, "rework": 0 if ftf else rnd.randint(1, 2),
               "closed_at": closed}
        jobs.append(job)
        publish(services, ticket_opened(t))
        cause = rnd.choice(CAUSES)
        causes.append(cause)
        publish(services, job_diagnosed(t, cause, at=in_month(), engineer_id=eng))
        for stage in ("response", "dispatch", "arrival", "resolution"):
            met = rnd.random() < 0.8
            slas.append((stage, met))
            publish(services, sla_completed(t, stage, met, at=in_month()))
        lines = [(s, rnd.randint(1, 3)) for s in rnd.sample(SKUS, rnd.randint(1, 2))]
        parts.extend(lines)
        publish(services, parts_consumed(t, lines, at=in_month()))
        publish(services, job_closed(t, engineer_id=eng, at=closed, first_time_fix=ftf,
                                     rework_count=job["rework"]))
        sent += 8
    # noise: last month's job (its survey is issued now, so it counts as issued this month),
    # another branch's job, facts of last month
    old = ticket()
    before = start - timedelta(days=230)
    publish(services, ticket_opened(old))
    publish(services, job_closed(old, engineer_id="E-SH-001", at=before))
    publish(services, job_diagnosed(old, "design", at=start - timedelta(hours=1)))
    publish(services, sla_completed(old, "response", False, at=start - timedelta(seconds=1)))
    publish(services, parts_consumed(old, [("GJ-LS-M20", 50)], at=start - timedelta(hours=2)))
    hz = ticket("HZ")
    publish(services, ticket_opened(hz, "HZ"))
    publish(services, job_closed(hz, "HZ", engineer_id="E-HZ-1", at=in_month()))
    publish(services, sla_completed(hz, "response", False, branch="HZ", at=in_month()))
    sent += 8
    wait_handled(SERVICE, QUEUE, handled_before + sent, timeout=60)
    watcher.of_type("survey_issued", count=16, timeout=60)

    # the customers answer (most of them, some on the phone); low scores happen
    answers = {}
    for j in jobs + [{"ticket_no": old, "engineer": "E-SH-001"}]:
        [s] = surveys(http, services, j["ticket_no"])
        if rnd.random() < 0.25:
            continue
        overall = rnd.choice([5, 5, 5, 4, 4, 3, 2, 1])
        doc = {d: rnd.choice([overall, 5, 4, 2]) for d in DIMS}
        doc.update(overall=overall, recommend=rnd.randint(0, 10), comment="回访评价")
        if rnd.random() < 0.3:
            call(http, services, "POST", f"/api/v1/surveys/{s['survey_id']}/phone-answer",
                 json=doc, expect=200)
        else:
            r = http.post(services.url("feedback", f"/api/v1/surveys/{s['token']}"), json=doc)
            assert r.status_code == 200, r.text
        answers[j["ticket_no"]] = (j["engineer"], doc)

    # complaints: two from intake (priority decides severity), two from agents, one resolved
    c1, c2 = ticket(), ticket()
    publish(services, ticket_opened(c1, category="complaint", priority="A"))
    publish(services, ticket_opened(c2, category="complaint", priority="C"))
    watcher.of_type("complaint_registered", ticket_no=c1)
    watcher.of_type("complaint_registered", ticket_no=c2)
    about = jobs[0]
    a1 = call(http, services, "POST", "/api/v1/complaints", expect=201, json={
        "ticket_no": about["ticket_no"], "severity": "medium", "description": "维修后仍有异响"}).json()
    call(http, services, "POST", "/api/v1/complaints", expect=201, json={
        "ticket_no": jobs[1]["ticket_no"], "severity": "medium", "description": "态度差"})
    call(http, services, "POST", f"/api/v1/complaints/{a1['complaint_id']}/resolve",
         json={"text": "重新上门处理"}, expect=200)
    call(http, services, "POST", f"/api/v1/complaints/{a1['complaint_id']}/confirm",
         json={"satisfied": True}, expect=200)
    # a return visit of last month's job, done now
    [visit] = call(http, services, "GET", "/api/v1/return-visits", expect=200,
                   params={"ticket_no": old}).json()["visits"][:1]
    call(http, services, "POST", f"/api/v1/return-visits/{visit['visit_id']}/outcome",
         json={"outcome": "ok"}, expect=200)

    report = call(http, services, "GET", "/api/v1/reports/monthly", key=("SH", "manager"),
                  params={"month": month}, expect=200).json()

    # -- the independent computation ----------------------------------------------------------
    def low(doc):
        return min(doc[d] for d in DIMS) <= 2 or doc["overall"] <= 3

    def answer_figures(docs):
        overall = [d["overall"] for d in docs]
        rec = [d["recommend"] for d in docs]
        return {"answered": len(docs),
                "csat": pct(len([o for o in overall if o in (4, 5)]), len(docs)),
                "average_overall": round(sum(overall) / len(overall), 2) if overall else None,
                "nps": pct(len([r for r in rec if r >= 9]) - len([r for r in rec if r <= 6]),
                           len(rec))}

    docs = [d for _, d in answers.values()]
    issued = len(jobs) + 1
    ftf = len([j for j in jobs if j["ftf"]])
    expected_surveys = {
        "issued": issued, "answered_of_issued": len(answers),
        "response_rate": pct(len(answers), issued), **answer_figures(docs),
        "overall_distribution": {str(k): len([d for d in docs if d["overall"] == k])
                                 for k in range(1, 6)},
        "low_score_follow_ups": len([d for d in docs if low(d)]),
    }
    expected_sla = {}
    for stage in ("response", "dispatch", "arrival", "resolution"):
        of = [m for s, m in slas if s == stage]
        expected_sla[stage] = {"completed": len(of), "met": of.count(True),
                               "adherence": pct(of.count(True), len(of))}
    counted = Counter(causes)
    expected_causes = sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    qty = Counter()
    for s, q in parts:
        qty[s] += q
    engineers = []
    ids = {j["engineer"] for j in jobs} | {e for e, _ in answers.values()}
    for e in sorted(ids):
        mine = [j for j in jobs if j["engineer"] == e]
        e_docs = [d for who, d in answers.values() if who == e]
        engineers.append({
            "engineer_id": e, "jobs_closed": len(mine),
            "first_time_fix_rate": pct(len([j for j in mine if j["ftf"]]), len(mine)),
            **answer_figures(e_docs),
            "low_score_follow_ups": len([d for d in e_docs if low(d)]),
            "complaints": (1 if about["engineer"] == e else 0) + (1 if jobs[1]["engineer"] == e else 0),
        })

    assert report["surveys"] == expected_surveys
    assert report["complaints"] == {"registered": 4,
                                    "by_severity": {"low": 1, "medium": 2, "high": 1},
                                    "escalated": 0, "resolved": 1, "closed_confirmed": 1}
    assert report["jobs"] == {"closed": len(jobs), "first_time_fix": ftf,
                              "first_time_fix_rate": pct(ftf, len(jobs)),
                              "rework": sum(j["rework"] for j in jobs)}
    assert report["sla"] == expected_sla
    assert [(c["cause"], c["count"]) for c in report["fault_causes"]] == expected_causes
    assert report["parts"] == {"total_quantity": sum(qty.values()),
                               "by_sku": [{"sku": s, "quantity": q} for s, q in sorted(qty.items())]}
    assert report["return_visits"] == {"due": 0, "done": 1, "problems_found": 0}
    assert report["engineers"] == engineers

    # the same report as CSV (opens in a spreadsheet; Chinese-safe UTF-8)
    r = call(http, services, "GET", "/api/v1/reports/monthly", key=("SH", "manager"),
             params={"month": month, "format": "csv"}, expect=200)
    assert r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8"))))
    value = {(x["section"], x["key"], x["metric"]): x["value"] for x in rows}
    assert value[("surveys", "", "issued")] == str(issued)
    assert value[("jobs", "", "closed")] == str(len(jobs))
    assert value[("sla", "response", "met")] == str(expected_sla["response"]["met"])
    assert all(x["branch"] == "SH" and x["month"] == month for x in rows)

    # branch scoping and bad input
    call(http, services, "GET", "/api/v1/reports/monthly", key=("HZ", "manager"),
         params={"branch": "SH", "month": month}, expect=403)
    call(http, services, "GET", "/api/v1/reports/monthly", key=("HQ", "manager"),
         params={"month": month}, expect=422)
    call(http, services, "GET", "/api/v1/reports/monthly", key=("SH", "manager"),
         params={"month": "2026-13"}, expect=422)
    hz_report = call(http, services, "GET", "/api/v1/reports/monthly", key=("HQ", "manager"),
                     params={"branch": "HZ", "month": month}, expect=200).json()
    assert hz_report["jobs"]["closed"] == 1 and hz_report["sla"]["response"]["met"] == 0
