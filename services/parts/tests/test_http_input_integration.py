"""Bad input over HTTP is a 4xx naming the field, on SQLite and on PostgreSQL: the 500s the
Schemathesis run and its PostgreSQL follow-up found (a NUL character in a path id, a query
parameter or a body; a date at the edge of the calendar in the defects report)."""
import pytest

from .support import call

pytestmark = pytest.mark.integration

HQ = ("HQ", "admin")


def fields(r) -> set[str]:
    return {e["field"] for e in r.json()["errors"]}


def test_a_nul_in_a_path_id_is_no_such_resource(services, http):
    services.start("parts")
    for method, path in (("GET", "/api/v1/parts-requests/PR-%00"),
                         ("POST", "/api/v1/parts-requests/%00/approve"),
                         ("GET", "/api/v1/returns/RMA-1%00"),
                         ("POST", "/api/v1/transfers/%00/receive"),
                         ("POST", "/api/v1/backorders/BO-%00/receive")):
        assert call(http, services, method, path, key=HQ, expect=404).json()["error"]


def test_a_nul_in_a_query_parameter_is_refused_by_name(services, http):
    services.start("parts")
    for path, params in (("/api/v1/ledger", {"branch": "SH", "ticket_no": "SH-\x00"}),
                         ("/api/v1/parts-requests", {"ticket_no": "\x00"}),
                         ("/api/v1/transfers", {"status": "in_transit\x00"}),
                         ("/api/v1/backorders", {"status": "\x00"}),
                         ("/api/v1/returns", {"status": "\x00"}),
                         ("/api/v1/reports/defects", {"model": "配电柜\x00"}),
                         ("/api/v1/catalogue", {"model": "\x00"})):
        r = call(http, services, "GET", path, key=HQ, params=params, expect=422)
        assert fields(r) == set(params) - {"branch"}, path


def test_a_nul_in_a_body_is_refused_by_name(services, http):
    services.start("parts")
    r = call(http, services, "POST", "/api/v1/returns", key=HQ, expect=422, json={
        "branch": "SH", "sku": "DQ-DL-NXB63", "model": "配电柜 GGD-2\x00", "fault": "跳闸"})
    assert fields(r) == {"model"}
    r = call(http, services, "POST", "/api/v1/parts-requests", key=HQ, expect=422, json={
        "ticket_no": "SH-20261122-0001\x00", "branch": "SH",
        "lines": [{"sku": "DQ-DL-NXB63\x00", "quantity": 1}]})
    assert fields(r) == {"ticket_no", "lines.0.sku"}
    r = call(http, services, "POST", "/api/v1/stock/movements", key=HQ, expect=422, json={
        "branch": "SH", "kind": "receive", "sku": "GJ-LS-M20", "quantity": 1, "note": "\x00"})
    assert fields(r) == {"note"}


def test_a_date_with_no_utc_time_is_refused_by_name(services, http):
    services.start("parts")
    for params in ({"since": "0001-01-01"}, {"until": "9999-12-31T23:59:59-12:00"}):
        r = call(http, services, "GET", "/api/v1/reports/defects", key=HQ, params=params,
                 expect=422)
        assert r.json()["errors"] == [{"field": next(iter(params)), "message": "is out of range"}]
    r = call(http, services, "GET", "/api/v1/reports/defects", key=HQ, expect=200,
             params={"since": "2026-11-01", "until": "9999-12-31"})
    assert r.json()["since"] == "2026-11-01T00:00:00+08:00"
