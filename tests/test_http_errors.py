"""HTTP as a new user meets it: every service answers JSON errors for routes it does not have,
methods a route does not take and failures; a body without its branch is bad input naming
``branch`` (422), not a permission problem (403)."""
from __future__ import annotations

from pathlib import Path

import pytest

from aftersales.registry import SERVICES
from tests.support.data import repair_request
from tests.support.fixtures import ServiceHarness, auth, free_port

pytestmark = pytest.mark.integration

JSON = "application/json"


@pytest.fixture(scope="module")
def all_services(broker_uri, tmp_path_factory):
    """The four services once for the module (routing and errors do not depend on data)."""
    tmp = tmp_path_factory.mktemp("http-errors")
    harness = ServiceHarness(broker_uri, {s: f"sqlite:///{tmp / (s + '.db')}" for s in SERVICES})
    for name in SERVICES:
        harness.start(name)
    yield harness
    harness.stop_all()


def test_every_service_answers_an_unknown_route_with_a_json_404(all_services, http):
    for name in SERVICES:
        r = http.get(all_services.url(name, "/api/v1/no-such-thing"), headers=auth("SH"))
        assert r.status_code == 404, (name, r.text)
        assert r.headers["Content-Type"].startswith(JSON), (name, r.text)
        assert r.json() == {"error": "no such route: GET /api/v1/no-such-thing"}
        # a trailing slash is another route, and still JSON
        r = http.get(all_services.url(name, "/health/"))
        assert r.status_code == 404 and r.headers["Content-Type"].startswith(JSON), (name, r.text)


def test_every_service_answers_a_wrong_method_with_a_json_405_naming_the_allowed_ones(all_services, http):
    for name in SERVICES:
        r = http.delete(all_services.url(name, "/health"))
        assert r.status_code == 405, (name, r.text)
        assert r.headers["Content-Type"].startswith(JSON), (name, r.text)
        assert r.headers["Allow"] == "GET, HEAD"
        assert r.json()["allowed"] == ["GET", "HEAD"]
        assert "DELETE" in r.json()["error"]
    r = http.get(all_services.url("intake", "/api/v1/tickets/SH-1/contact"), headers=auth("SH"))
    assert r.status_code == 405 and r.json()["allowed"] == ["POST"]


def test_a_ticket_body_without_its_branch_is_a_field_error_not_a_permission_error(all_services, http):
    url = all_services.url("intake", "/api/v1/tickets")
    for body in ({}, repair_request(branch=None)):
        r = http.post(url, json=body, headers=auth("SH"))
        assert r.status_code == 422, r.text
        assert [e["field"] for e in r.json()["errors"]] == ["branch"], r.text
    r = http.post(url, json=repair_request(branch=5), headers=auth("SH"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "branch", r.text
    # another branch's request is still refused for what it is
    r = http.post(url, json=repair_request(branch="BJ"), headers=auth("SH"))
    assert r.status_code == 403 and "BJ" in r.json()["error"], r.text


def test_an_entrypoint_that_fails_answers_a_json_500_without_details(http):
    from nameko.containers import ServiceContainer

    from aftersales.web import http as route

    class Fragile:
        name = "fragile"

        @route("GET", "/boom")
        def boom(self, request):
            raise RuntimeError("secret detail 13812345678")

        @route("GET", "/not-text")
        def not_text(self, request):
            return 200, {"a": 1}     # nameko wants a string payload: a bug, answered as 500

    port = free_port()
    container = ServiceContainer(Fragile, {"WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
                                           "AMQP_URI": "memory://"})
    container.start()
    try:
        for path in ("/boom", "/not-text"):
            r = http.get(f"http://127.0.0.1:{port}{path}")
            assert r.status_code == 500, r.text
            assert r.headers["Content-Type"].startswith(JSON)
            assert r.json() == {"error": "internal error"}
    finally:
        container.stop()


ROOT = Path(__file__).resolve().parent.parent


def test_no_service_uses_namekos_own_http_entrypoint():
    """Two kinds of ``@http`` in one service would start two web servers on one port, and
    nameko's would answer HTML errors: every service uses ``aftersales.web.http``."""
    offenders = [str(p.relative_to(ROOT)) for base in ("aftersales", "services")
                 for p in Path(ROOT, base).rglob("*.py")
                 if "nameko.web.handlers import http" in p.read_text(encoding="utf-8")
                 and p.name != "web.py"]
    assert offenders == []
