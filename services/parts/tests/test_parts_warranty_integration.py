"""Issue #13: whether a parts request is in warranty is the platform's decision (intake's, on
``ticket_opened``; dispatch's on ``parts_requested``), never the client's; the auto-approval
limit applies to the ticket's total, so splitting an order does not avoid the manager."""
import pytest

from tests.support.waiting import handled

from .support import (QUEUE, SERVICE, call, open_ticket, parts_requested, publish, request_parts,
                      ticket, wait_handled)

pytestmark = pytest.mark.integration


def test_the_client_cannot_declare_a_request_in_warranty(services, http):
    services.start("parts")
    t = ticket()
    open_ticket(services, t, in_warranty=False)          # intake: warranty expired
    r = call(http, services, "POST", "/api/v1/parts-requests", expect=422,
             json={"ticket_no": t, "in_warranty": True, "lines": [{"sku": "GJ-LS-M20", "quantity": 1}]})
    assert r.json()["errors"][0]["field"] == "in_warranty"
    view = request_parts(http, services, [("GJ-LS-M20", 1)], ticket_no=t, opened=False)
    assert view["status"] == "pending_approval" and view["in_warranty"] is False


def test_a_request_for_a_ticket_parts_has_no_warranty_decision_for_waits_for_the_manager(
        services, http):
    services.start("parts")
    view = request_parts(http, services, [("GJ-LS-M20", 1)], opened=False)   # any ticket_no
    assert view["status"] == "pending_approval" and view["in_warranty"] is False


def test_a_ticket_of_another_branch_is_refused(services, http):
    services.start("parts")
    t = ticket("BJ")
    open_ticket(services, t, branch="BJ")
    r = request_parts(http, services, [("GJ-LS-M20", 1)], ticket_no=t, opened=False, expect=422)
    assert r["errors"][0]["field"] == "ticket_no"


def test_splitting_an_order_into_small_requests_does_not_avoid_the_manager(services, watcher, http):
    services.start("parts", PARTS_AUTO_APPROVE_LIMIT="100")
    t = ticket()
    first = request_parts(http, services, [("GJ-LS-M20", 10)], ticket_no=t)      # cost 68.00
    assert first["status"] == "open" and first["approval"]["auto"]
    second = request_parts(http, services, [("GJ-LS-M20", 10)], ticket_no=t, opened=False)
    assert second["status"] == "pending_approval"                               # 136.00 in all
    target = handled(SERVICE, QUEUE) + 1
    publish(services, parts_requested(t, [("GJ-LS-M20", 5)]))                   # and over the bus
    wait_handled(target)
    listed = call(http, services, "GET", "/api/v1/parts-requests", params={"ticket_no": t},
                  expect=200).json()["requests"]
    assert sorted(r["status"] for r in listed) == ["open", "pending_approval", "pending_approval"]
