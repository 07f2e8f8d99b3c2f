"""The parts reports' windows are the branch's local months and days, on SQLite and
PostgreSQL: movements and returns at the hours when Shanghai's date differs from UTC's (the
first hours of a month, of 31 December, of New Year, of 29 February) land in the local month
or day. The platform clock is set by the test, so the result does not depend on today."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from .support import call, ticket

pytestmark = pytest.mark.integration

TZ = ZoneInfo("Asia/Shanghai")
SKU = "DQ-JC-CJX2"                     # 30 on hand from the seed
WAREHOUSE, MANAGER, ENGINEER = ("SH", "warehouse"), ("SH", "manager"), ("SH", "engineer", "E-SH-007")
# local instant -> quantity received then (each quantity is told apart in the report)
RECEIPTS = [
    (datetime(2026, 12, 1, 7, 30, tzinfo=TZ), 1),      # UTC: 30 November 23:30
    (datetime(2026, 12, 31, 7, 0, tzinfo=TZ), 2),      # UTC: 30 December 23:00
    (datetime(2027, 1, 1, 6, 0, tzinfo=TZ), 4),        # UTC: 31 December 22:00
    (datetime(2028, 2, 29, 5, 0, tzinfo=TZ), 8),       # UTC: 28 February 21:00
    (datetime(2028, 3, 1, 0, 30, tzinfo=TZ), 16),      # UTC: 29 February 16:30
]


def ledger(http, services, month):
    report = call(http, services, "GET", "/api/v1/reports/ledger", key=MANAGER,
                  params={"month": month}, expect=200).json()
    line = next((x for x in report["lines"] if x["sku"] == SKU), None)
    return report, line


def test_movements_and_returns_land_in_the_branchs_local_month_and_day(services, http, clock):
    clock.run_from(datetime(2026, 11, 30, 12, 0, tzinfo=TZ))      # seeded in November
    services.start("parts")
    returns = []
    for at, quantity in RECEIPTS:
        clock.run_from(at)
        call(http, services, "POST", "/api/v1/stock/movements", key=WAREHOUSE,
             json={"kind": "receive", "sku": SKU, "quantity": quantity}, expect=201)
        returns.append(call(http, services, "POST", "/api/v1/returns", key=ENGINEER, expect=201,
                            json={"ticket_no": ticket(), "sku": "DQ-DL-NXB63",
                                  "model": f"配电柜 GGD-{quantity}", "fault": "触点烧蚀"}).json())

    report, line = ledger(http, services, "2026-11")
    assert report["from"] == "2026-10-31T16:00:00+00:00" and report["to"] == "2026-11-30T16:00:00+00:00"
    assert (line["opening"], line["received"], line["closing"]) == (0, 30, 30)
    expected = {"2026-12": (30, 1 + 2), "2027-01": (33, 4), "2027-02": (37, 0),
                "2028-02": (37, 8), "2028-03": (45, 16)}
    for month, (opening, received) in expected.items():
        report, line = ledger(http, services, month)
        assert (line["opening"], line["received"], line["closing"]) == \
            (opening, received, opening + received), month
        assert sum(m["quantity"] for m in report["movements"] if m["sku"] == SKU) == received

    def defects(since, until):
        r = call(http, services, "GET", "/api/v1/reports/defects", key=("HQ", "qc"), expect=200,
                 params={"since": since, "until": until}).json()
        return sorted(m["model"] for m in r["models"])

    # since/until without an offset are the branch's local midnight
    assert defects("2026-12-01", "2026-12-02") == ["配电柜 GGD-1"]
    assert defects("2026-11-30", "2026-12-01") == []
    assert defects("2026-12-31", "2027-01-01") == ["配电柜 GGD-2"]
    assert defects("2027-01-01", "2027-01-02") == ["配电柜 GGD-4"]
    assert defects("2028-02-29", "2028-03-01") == ["配电柜 GGD-8"]
    assert defects("2028-03-01", "2028-03-02") == ["配电柜 GGD-16"]
    assert defects("2028-02-29T21:00:00+08:00", "2028-03-01T00:30:00+08:00") == []
    assert defects("2028-02-29T16:30:00Z", "2028-02-29T16:31:00Z") == ["配电柜 GGD-16"]
