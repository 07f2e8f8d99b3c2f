"""Many requests at once for the last unit: exactly one reserves it, the others are
backordered, and the stock never shows more reserved than on hand. Run against PostgreSQL
(row locks, concurrent transactions on several connections) and SQLite, with the service's
workers (max_workers ≥ 4) handling the requests concurrently, over HTTP and over the bus."""
import eventlet
import pytest
import requests

from tests.support.fixtures import auth

from .support import (ENGINEER, call, open_ticket, parts_requested, publish, set_stock, stock,
                      ticket)

pytestmark = pytest.mark.integration

SKU = "JX-KY-LX37"
N = 12


def post_request(url: str, ticket_no: str) -> int:
    with requests.Session() as s:       # one connection per green thread
        r = s.post(url, headers=auth(*ENGINEER), timeout=30, json={
            "ticket_no": ticket_no, "lines": [{"sku": SKU, "quantity": 1}]})
        return r.status_code


@pytest.mark.parametrize("via", ["http", "bus"])
def test_two_or_more_requests_for_the_last_unit_reserve_it_exactly_once(services, watcher, http,
                                                                       via):
    container = services.start("parts", max_workers=10)
    assert container.max_workers >= 4
    set_stock(http, services, SKU, {"SH": 1, "HZ": 0, "BJ": 0, "GZ": 0})
    tickets = [ticket() for _ in range(N)]
    if via == "http":
        for t in tickets:
            open_ticket(services, t)
        url = services.url("parts", "/api/v1/parts-requests")
        pool = eventlet.GreenPool(N)
        assert list(pool.imap(lambda t: post_request(url, t), tickets)) == [201] * N
    else:
        for t in tickets:
            publish(services, parts_requested(t, [(SKU, 1)]))

    mine = set(tickets)
    watcher.wait_for(lambda e: e.get("type") == "parts_request_approved"
                     and e["ticket_no"] in mine, count=N)
    backordered = watcher.wait_for(lambda e: e.get("type") == "parts_backordered"
                                   and e["ticket_no"] in mine, count=N - 1)
    reserved = [e for e in watcher.events
                if e.get("type") == "parts_reserved" and e["ticket_no"] in mine]
    assert len(reserved) == 1 and reserved[0]["data"]["lines"] == [{"sku": SKU, "quantity": 1}]
    assert {e["ticket_no"] for e in backordered} == mine - {reserved[0]["ticket_no"]}
    assert not [e for e in watcher.events
                if e.get("type") == "parts_transfer_started" and e["ticket_no"] in mine]

    sh = stock(http, services)[SKU]
    assert (sh["on_hand"], sh["reserved"], sh["available"]) == (1, 1, 0)
    entries = call(http, services, "GET", "/api/v1/ledger", params={"sku": SKU},
                   key=("SH", "warehouse"), expect=200).json()["entries"]
    assert sum(e["reserved"] for e in entries if e["kind"] == "reserve") == 1
    states = [call(http, services, "GET", "/api/v1/parts-requests", params={"ticket_no": t},
                   expect=200).json()["requests"] for t in tickets]
    assert all(len(s) == 1 and s[0]["status"] == "open" for s in states)
