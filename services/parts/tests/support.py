"""Helpers for parts' integration tests: HTTP calls with the right keys, stock set-up through
the warehouse API, and events as dispatch publishes them."""
from __future__ import annotations

import uuid

from aftersales.outbox import make_envelope
from services.parts.tests.conformance import conforms
from tests.support.broker import publish_event
from tests.support.data import ticket_opened
from tests.support.fixtures import auth
from tests.support.waiting import handled, wait_until

SERVICE = "parts"
QUEUE = "aftersales.parts.events"
ENGINEER = ("SH", "engineer", "E-SH-007")
BRANCH_CODES = ("SH", "HZ", "BJ", "GZ")


def ticket(branch="SH") -> str:
    return f"{branch}-20261122-{uuid.uuid4().int % 1_000_000:06d}"


def call(http, services, method, path, key=ENGINEER, expect=None, **kw):
    r = http.request(method, services.url("parts", path), headers=auth(*key), **kw)
    if expect is not None:
        assert r.status_code == expect, f"{method} {path}: {r.status_code} {r.text}"
    conforms(method, path, r)           # every answer is what the OpenAPI document says
    return r


def stock(http, services, branch="SH") -> dict[str, dict]:
    r = call(http, services, "GET", "/api/v1/stock", key=("HQ", "manager"),
             params={"branch": branch}, expect=200)
    return {i["sku"]: i for i in r.json()["stock"]}


def set_stock(http, services, sku, levels: dict[str, int]) -> None:
    """Stocktake: ``levels`` is what is counted on each branch's shelf."""
    for branch, counted in levels.items():
        call(http, services, "POST", "/api/v1/stock/movements", key=(branch, "warehouse"),
             json={"kind": "stocktake", "sku": sku, "counted": counted}, expect=201)


def open_ticket(services, ticket_no, branch="SH", in_warranty=True) -> None:
    """Intake's ``ticket_opened`` reaches parts with the ticket's warranty decision."""
    target = handled(SERVICE, QUEUE) + 1
    publish(services, ticket_opened(ticket_no, branch=branch,
                                    warranty="in_warranty" if in_warranty else "expired"))
    wait_handled(target)


def request_parts(http, services, lines, ticket_no=None, in_warranty=True, key=ENGINEER,
                  expect=201, opened=True, **extra) -> dict:
    """POST a parts request; first (``opened``) intake opens the ticket with the warranty
    decision ``in_warranty`` (the client never says whether it is in warranty)."""
    ticket_no = ticket_no or ticket(key[0] if key[0] != "HQ" else "SH")
    if opened:
        open_ticket(services, ticket_no, extra.get("branch") or ticket_no.split("-")[0],
                    in_warranty)
    body = {"ticket_no": ticket_no, "lines": [{"sku": s, "quantity": q} for s, q in lines],
            **extra}
    r = call(http, services, "POST", "/api/v1/parts-requests", key=key, json=body, expect=expect)
    return r.json()


def job_completed(ticket_no, parts_used, branch="SH"):
    return make_envelope("dispatch", "job_completed", {
        "ticket_no": ticket_no, "engineer_id": "E-SH-007",
        "completed_at": "2026-11-23T16:05:00+08:00",
        "summary": "更换配电柜断路器，试运行正常", "parts_used": parts_used,
    }, ticket_no=ticket_no, branch=branch)


def parts_requested(ticket_no, lines, branch="SH", in_warranty=True):
    return make_envelope("dispatch", "parts_requested", {
        "ticket_no": ticket_no, "requested_by": "E-SH-007", "in_warranty": in_warranty,
        "lines": [{"sku": s, "quantity": q} for s, q in lines], "note": "现场急需",
    }, ticket_no=ticket_no, branch=branch)


def publish(services, env) -> None:
    publish_event(services.broker_uri, env)


def wait_handled(target: float) -> None:
    wait_until(lambda: handled(SERVICE, QUEUE) >= target,
               what=f"parts to acknowledge {target} message(s)")


def consumed(watcher, services, ticket_no, parts_used, branch="SH") -> dict:
    """Complete a job over the bus and return the ``parts_consumed`` it caused."""
    publish(services, job_completed(ticket_no, parts_used, branch))
    [event] = watcher.of_type("parts_consumed", ticket_no=ticket_no)
    return event


def caught_up(watcher, services) -> None:
    """Wait until the outbox relay published everything committed so far: a marker job's
    ``parts_consumed`` (the relay publishes in commit order)."""
    marker = ticket()
    publish(services, job_completed(marker, [{"sku": "GJ-LS-M20", "quantity": 1}]))
    watcher.of_type("parts_consumed", ticket_no=marker)


def of(watcher, type_, **match) -> list[dict]:
    """Events of a type seen so far (no waiting)."""
    return [e for e in watcher.events if e.get("type") == type_ and all(
        e.get(k) == v or e.get("data", {}).get(k) == v for k, v in match.items())]
