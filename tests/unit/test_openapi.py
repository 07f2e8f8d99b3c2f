"""The services' OpenAPI 3.1 documents: valid (openapi-spec-validator), generated from the
code (every @http route is in its document, with the roles of the access table), served at
/openapi.json and /docs (see tests/test_openapi_fuzz.py for the running services)."""
from __future__ import annotations

import pytest
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
from openapi_spec_validator import validate

from aftersales import access
from aftersales.openapi import document, routes
from aftersales.openapi_page import render
from aftersales.registry import SERVICES, service_class


@pytest.mark.parametrize("service", SERVICES)
def test_the_document_is_valid_openapi_3_1(service):
    doc = document(service_class(service))
    assert doc["openapi"] == "3.1.0"
    validate(doc)


@pytest.mark.parametrize("service", SERVICES)
def test_every_route_of_the_class_and_of_the_access_table_is_in_the_document(service):
    cls = service_class(service)
    doc = document(cls)
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    declared = {(m, p) for m, p, _, _ in routes(cls)}
    assert documented == declared
    # the console's pages are not in the table: a session cookie, not an API key, lets one in
    table = access.ROUTES.get(service, {})
    assert table or service == "console"
    assert set(table) <= documented
    for (method, path), roles in table.items():
        op = doc["paths"][path][method.lower()]
        if roles == access.PUBLIC:
            assert op["security"] == [] and "401" not in op["responses"]
        else:
            assert op["x-roles"] == ["admin", *roles] and {"401", "403"} <= set(op["responses"])
    assert {"/health", "/metrics", "/openapi.json", "/docs"} <= set(doc["paths"])


@pytest.mark.parametrize("service", SERVICES)
def test_the_page_shows_every_route(service):
    doc = document(service_class(service))
    page = render(doc)
    assert page.startswith("<!doctype html>") and "接口文档" in page
    for path in doc["paths"]:
        assert path.replace("&", "&amp;") in page


def test_routes_are_read_from_the_http_entrypoints():
    cls = service_class("intake")
    fn = cls.post_ticket
    assert getattr(fn, ENTRYPOINT_EXTENSIONS_ATTR)
    assert ("POST", "/api/v1/tickets") in {(m, p) for m, p, _, _ in routes(cls)}


@pytest.mark.parametrize("service", SERVICES)
def test_docs_openapi_is_the_generated_document(service):
    """docs/openapi/<service>.json (what integrators download) is what the code generates:
    `make docs` was run after the last change of a route, body or response model."""
    import json
    from pathlib import Path
    committed = Path(__file__).resolve().parents[2] / "docs" / "openapi" / f"{service}.json"
    assert json.loads(committed.read_text(encoding="utf-8")) == document(service_class(service)), \
        f"docs/openapi/{service}.json is out of date: run `make docs`"
