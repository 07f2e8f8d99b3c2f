"""Requests that arrive at the same moment never answer 500: the same request posted by several
clients at once opens one ticket and every client gets its number, and different requests of
one branch and day get different numbers (real broker; SQLite and PostgreSQL)."""
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.support.data import repair_request
from tests.support.fixtures import auth

pytestmark = pytest.mark.integration

CLIENTS = 8


def post_all(url: str, bodies: list[dict]) -> list[requests.Response]:
    def post(body):
        with requests.Session() as s:
            return s.post(url, json=body, headers=auth("SH"), timeout=60)
    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(post, bodies))


def test_the_same_request_posted_by_several_clients_at_once_opens_one_ticket(services):
    services.start("intake")
    body = repair_request(asset=None)
    answers = post_all(services.url("intake", "/api/v1/tickets"), [body] * CLIENTS)
    assert [r.status_code for r in answers if r.status_code >= 500] == [], \
        [r.text for r in answers if r.status_code >= 500]
    assert len({r.json()["ticket_no"] for r in answers}) == 1
    assert sorted(r.json()["outcome"] for r in answers) == ["duplicate"] * (CLIENTS - 1) + ["opened"]


def test_different_requests_of_one_branch_and_day_at_once_get_different_numbers(services):
    services.start("intake")
    bodies = [repair_request(asset=None) for _ in range(CLIENTS)]
    answers = post_all(services.url("intake", "/api/v1/tickets"), bodies)
    assert [r.status_code for r in answers] == [201] * CLIENTS, [r.text for r in answers]
    numbers = {r.json()["ticket_no"] for r in answers}
    assert len(numbers) == CLIENTS and all(n.startswith("SH-20261122-") for n in numbers)
