"""The role table (aftersales/access.py, docs/access.md) holds on the real services: every
route, called with a key of every role, of the ticket's branch and of another branch, and
without a key, answers as the table says — and a key of another branch never gets the
ticket's data."""
from __future__ import annotations

import re

import pytest

from aftersales import access
from aftersales.auth import ROLES, issue_key
from tests.support.broker import publish_request
from tests.support.data import repair_request
from tests.support.fixtures import SECRET

pytestmark = pytest.mark.integration

SERVICES = ("intake", "dispatch", "parts", "feedback")
OPEN_ROUTES = {("GET", "/health"), ("GET", "/metrics"), ("GET", "/openapi.json"),
               ("GET", "/docs")}


def _routes(container):
    from nameko.web.handlers import HttpRequestHandler
    return sorted({(ep.method, re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", ep.url))
                   for ep in container.entrypoints if isinstance(ep, HttpRequestHandler)})


def _path(route: str, ticket_no: str) -> str:
    values = {"ticket_no": ticket_no, "plan_id": "rainy-season-roof", "action": "resolve"}
    return re.sub(r"{(\w+)}", lambda m: values.get(m.group(1), "X-404"), route)


def _key(branch: str, role: str) -> dict:
    eng = f"E-{branch}-007" if role == "engineer" else None
    return {"Authorization": f"Bearer {issue_key(SECRET, branch, role, eng)}"}


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)   # roles, not storage
def test_every_route_answers_every_role_of_either_branch_as_the_table_says(services, watcher,
                                                                           http):
    containers = {name: services.start(name) for name in SERVICES}
    body = repair_request()                                # a real ticket of branch SH
    publish_request(services.broker_uri, body)
    [opened] = watcher.of_type("ticket_opened", request_id=body["request_id"])
    ticket_no = opened["ticket_no"]
    watcher.wait_for(lambda e: e.get("type") in ("engineer_assigned", "assignment_failed")
                     and e.get("ticket_no") == ticket_no)

    wrong, called = [], 0
    for name, container in containers.items():
        for method, route in _routes(container):
            if (method, route) in OPEN_ROUTES:
                continue
            roles = access.rule(name, method, route)
            assert roles is not None, f"{name} {method} {route} is missing from aftersales/access.py"
            url = services.url(name, _path(route, ticket_no))
            kw = {"json": {}} if method in ("POST", "PUT") else {}
            r = http.request(method, url, **kw)
            if (r.status_code == 401) == (roles == access.PUBLIC):
                wrong.append(f"{name} {method} {route} without a key: {r.status_code}")
            for branch in ("SH", "BJ"):
                for role in ROLES:
                    r = http.request(method, url, headers=_key(branch, role), **kw)
                    called += 1
                    where = f"{name} {method} {route} as {branch} {role}: {r.status_code} {r.text[:120]}"
                    refused_for_role = r.status_code == 403 and "may not do this" in r.text
                    may = roles == access.PUBLIC or role == "admin" or role in roles
                    if r.status_code >= 500 or r.status_code == 401 or refused_for_role == may:
                        wrong.append(where)
                    elif branch == "BJ" and r.status_code < 300 and ticket_no in r.text:
                        wrong.append(f"{where}: shows branch SH's ticket")
    assert called >= 70 * 16
    assert not wrong, "\n".join(wrong)
