"""Bad input the OpenAPI work found answered with a 500: each now gets a 422 naming the field
(against the real broker and database)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from aftersales.clock import utcnow

from .support import call, job_closed, publish, ticket, ticket_opened

pytestmark = pytest.mark.integration

HQ_MANAGER = ("HQ", "manager")


def _fields(r) -> set[str]:
    return {e["field"] for e in r.json()["errors"]}


def test_a_problem_too_long_for_the_new_requests_description_is_refused(services, watcher, http):
    """Schemathesis: a 5000-character problem made a fault description beyond the phone-center
    contract's 5000 (a 500 when the repair request was validated)."""
    services.start("feedback")
    ticket_no = ticket()
    publish(services, ticket_opened(ticket_no))
    publish(services, job_closed(ticket_no, at=utcnow() - timedelta(days=200)))
    watcher.of_type("survey_issued", ticket_no=ticket_no)
    first, second, *_ = call(http, services, "GET", "/api/v1/return-visits", expect=200,
                             params={"ticket_no": ticket_no}).json()["visits"]
    url = f"/api/v1/return-visits/{first['visit_id']}/outcome"
    r = call(http, services, "POST", url, expect=422,
             json={"outcome": "problem_found", "problem": "渗" * 5000})
    assert _fields(r) == {"problem"} and "characters" in r.json()["errors"][0]["message"]
    limit = int(r.json()["errors"][0]["message"].split()[3])
    assert 4900 < limit < 5000
    # nothing was recorded: the visit is still open, and a problem at the limit is taken
    done = call(http, services, "POST", url, expect=200,
                json={"outcome": "problem_found", "problem": "渗" * limit}).json()
    assert done["status"] == "done" and done["request_id"]
    call(http, services, "POST", f"/api/v1/return-visits/{second['visit_id']}/outcome",
         json={"outcome": "ok"}, expect=200)


@pytest.mark.parametrize("year", ["²", "3", "99999", "1999", "2101"])
def test_a_plan_run_for_a_year_no_date_can_hold_is_refused(services, http, year):
    """``"²".isdigit()`` passed and ``int()`` failed; years before 6 or after 9999 were past
    ``datetime``'s range: 500s. The years are now 2000-2100, like a report's months."""
    services.start("feedback")
    r = call(http, services, "POST", "/api/v1/visit-plans/rainy-season-roof/generate",
             key=HQ_MANAGER, params={"year": year}, expect=422)
    assert _fields(r) == {"year"}
    r = call(http, services, "POST", "/api/v1/visit-plans/rainy-season-roof/generate",
             key=HQ_MANAGER, expect=422)
    assert r.json()["errors"] == [{"field": "year", "message": "is required (e.g. 2027)"}]
    call(http, services, "POST", "/api/v1/visit-plans/rainy-season-roof/generate",
         key=HQ_MANAGER, params={"year": "2027"}, expect=200)


@pytest.mark.parametrize("deadline", ["0001-01-01T00:00:00+08:00", "9999-12-31T23:00:00-05:00",
                                      "0001-01-01T00:00:00"])
def test_a_complaint_deadline_beyond_a_utc_date_is_refused(services, http, deadline):
    """Stored as UTC, the year 1 at +08:00 (or 9999 at -05:00) overflowed: a 500."""
    services.start("feedback")
    r = call(http, services, "POST", "/api/v1/complaints", expect=422, json={
        "ticket_no": ticket(), "severity": "low", "description": "工程师迟到", "deadline": deadline})
    assert _fields(r) == {"deadline"}


@pytest.mark.parametrize("due_before", ["0001-01-01", "9999-12-31T23:00:00-05:00"])
def test_a_due_before_beyond_a_utc_date_is_refused(services, http, due_before):
    services.start("feedback")
    r = call(http, services, "GET", "/api/v1/return-visits", expect=422,
             params={"due_before": due_before})
    assert r.json()["errors"] == [{"field": "due_before", "message": "is out of range"}]


def test_a_plan_id_or_name_wider_than_its_column_is_refused(services, http):
    """PostgreSQL refused a plan id over 60 characters (and a visit label over 200, from a
    long plan name): 500s there; both are now 422s on every database."""
    services.start("feedback")
    body = {"name": "雨季屋面防水检查", "kind": "seasonal", "month": 5}
    r = call(http, services, "PUT", f"/api/v1/visit-plans/{'p' * 61}", key=HQ_MANAGER,
             json=body, expect=422)
    assert _fields(r) == {"plan_id"}
    r = call(http, services, "PUT", "/api/v1/visit-plans/long-name", key=HQ_MANAGER,
             json={**body, "name": "检" * 101}, expect=422)
    assert _fields(r) == {"name"}
    call(http, services, "PUT", f"/api/v1/visit-plans/{'p' * 60}", key=HQ_MANAGER,
         json={**body, "name": "检" * 100}, expect=200)
