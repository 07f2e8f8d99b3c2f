"""Intake's times are instants in UTC, whatever offset the sender wrote: tickets sort and are
found by the branch-local date the same way for every sender, the ticket number carries the
branch-local date, and a part fitted in the first hours of a local day starts its 3-month
warranty on that local day (SQLite and PostgreSQL)."""
import json

import pytest

from aftersales.outbox import make_envelope
from tests.support.broker import publish_raw
from tests.support.data import repair_request
from tests.support.fixtures import auth
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def open_ticket(services, http, **overrides) -> str:
    body = repair_request(**overrides)
    r = http.post(services.url("intake", "/api/v1/tickets"), json=body, headers=auth("SH"))
    assert r.status_code == 201, r.text
    return r.json()["ticket_no"]


def test_tickets_sort_and_are_found_by_local_date_whatever_offset_the_sender_wrote(services, http):
    services.start("intake")
    # 1 Dec 07:30 Shanghai (30 Nov 23:30 UTC), written with +08:00
    a = open_ticket(services, http, asset=None, received_at="2026-12-01T07:30:00+08:00")
    # 30 Nov 23:45 UTC (1 Dec 07:45 Shanghai), written in UTC: later than a
    b = open_ticket(services, http, asset=None, received_at="2026-11-30T23:45:00Z")
    # 30 Nov 15:59 UTC (30 Nov 23:59 Shanghai): the day before, locally
    c = open_ticket(services, http, asset=None, received_at="2026-11-30T15:59:00+00:00")
    assert a.startswith("SH-20261201-") and b.startswith("SH-20261201-")
    assert c.startswith("SH-20261130-")

    def q(params):
        r = http.get(services.url("intake", "/api/v1/tickets"), params=params, headers=auth("SH"))
        assert r.status_code == 200, r.text
        return [t["ticket_no"] for t in r.json()["tickets"]]

    assert q({}) == [b, a, c]                                   # newest first, by the instant
    assert q({"from": "2026-12-01", "to": "2026-12-01"}) == [b, a]
    assert q({"from": "2026-11-30", "to": "2026-11-30"}) == [c]


FITTED = {
    # fitted at (UTC)         -> local day it starts, and the 3-month warranty's end
    "1st-of-month-01:30": ("2026-11-30T17:30:00+00:00", "2027-03-01"),
    "new-year-00:10": ("2026-12-31T16:10:00+00:00", "2027-04-01"),
    "29-february-00:30": ("2028-02-28T16:30:00+00:00", "2028-05-29"),
}


@pytest.mark.parametrize("fitted_at, ends_on", FITTED.values(), ids=FITTED.keys())
def test_a_replaced_parts_warranty_starts_on_the_branch_local_day_it_was_fitted(
        services, watcher, http, clock, fitted_at, ends_on):
    from datetime import datetime
    clock.run_from(datetime.fromisoformat(fitted_at))    # the part is fitted "now"
    services.start("intake")
    t = open_ticket(services, http, asset=None)
    serial = f"NEW-FILTER-{ends_on}"
    env = make_envelope("parts", "parts_consumed", {
        "ticket_no": t, "warehouse": "SH",
        "lines": [{"sku": "PT-COMP-FILTER", "quantity": 1, "serial_no": serial}]},
        ticket_no=t, branch="SH", occurred_at=datetime.fromisoformat(fitted_at))
    publish_raw(services.broker_uri, "parts.events", "parts_consumed",
                json.dumps(env.to_json_dict()).encode())

    def timeline():
        r = http.get(services.url("intake", f"/api/v1/tickets/{t}"), headers=auth("SH"))
        return [e["type"] for e in r.json()["timeline"]]
    wait_until(lambda: "parts_consumed" in timeline(), what="parts_consumed on the timeline")

    # a request on the warranty's last local day: still covered
    clock.run_from(datetime.fromisoformat(f"{ends_on}T09:05:00+08:00"))
    later = open_ticket(services, http, asset={"serial_no": serial},
                        received_at=f"{ends_on}T09:00:00+08:00")
    [opened] = watcher.of_type("ticket_opened", ticket_no=later)
    assert opened["data"]["warranty"] == {"status": "in_warranty", "ends_on": ends_on,
                                          "component_category": "replaced_part"}
