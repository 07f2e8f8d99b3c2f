"""Dispatch's OpenAPI document covers every route: each ``json_api`` route names its answer (a
response model or another media type), each route that reads a body names its body model, each
one that reads a query string its query model; the bodies' examples are valid."""
from __future__ import annotations

import pytest

from aftersales.openapi import document, routes
from services.dispatch.service import DispatchService

ROUTES = [(m, p, fn, doc) for m, p, fn, doc in routes(DispatchService)
          if p.startswith("/api/")]
# the routes that read what the caller sends (the others ignore a body or take none)
NO_BODY = {("POST", f"/api/v1/jobs/{{ticket_no}}/{action}")
           for action in ("accept", "check-in", "resume")}
# the routes whose body is an image, not JSON (docs/dispatch.md#evidence)
IMAGE_BODY = {("POST", "/api/v1/jobs/{ticket_no}/photos")}
QUERIES = {"/api/v1/jobs", "/api/v1/board", "/api/v1/engineers"}


def test_every_api_route_is_a_json_api_route():
    assert len(ROUTES) == 25
    assert all(doc.route == path for _m, path, _fn, doc in ROUTES)


@pytest.mark.parametrize("method,path,fn,doc", ROUTES, ids=[f"{m} {p}" for m, p, _, _ in ROUTES])
def test_each_route_documents_its_answer_body_and_query(method, path, fn, doc):
    assert doc.response is not None or doc.media, f"{method} {path}: no response model"
    if doc.response is not None:
        assert doc.response.model_config.get("extra") == "forbid"
    if method in ("POST", "PUT") and (method, path) not in NO_BODY | IMAGE_BODY:
        assert doc.body is not None, f"{method} {path} reads a body: body= is missing"
    if (method, path) in NO_BODY | IMAGE_BODY or method == "GET":
        assert doc.body is None
    assert (doc.query is not None) == (method == "GET" and path in QUERIES)
    assert fn.__doc__, f"{method} {path}: the summary is the method's docstring"


def test_the_bodies_examples_are_valid_and_in_chinese():
    bodies = {doc.body for *_, doc in ROUTES if doc.body is not None}
    for body in bodies:
        examples = body.model_config.get("json_schema_extra", {}).get("examples")
        assert examples, f"{body.__name__} has no example"
        for ex in examples:
            body.model_validate(ex)
    texts = " ".join(str(ex) for b in bodies
                     for ex in b.model_config["json_schema_extra"]["examples"])
    assert any("\u4e00" <= ch <= "\u9fff" for ch in texts)


def test_the_document_lists_every_route_with_its_statuses():
    doc = document(DispatchService)
    ops = {(m.upper(), p): op for p, item in doc["paths"].items() for m, op in item.items()}
    assert {(m, p) for m, p, _, _ in ROUTES} <= set(ops)
    accept = ops[("POST", "/api/v1/jobs/{ticket_no}/accept")]["responses"]
    assert set(accept) == {"200", "401", "403", "404", "409"}
    jobs = ops[("GET", "/api/v1/jobs")]
    assert {p["name"] for p in jobs["parameters"]} == {"branch", "status", "limit"}
    assert "requestBody" in ops[("PUT", "/api/v1/engineers/{engineer_id}")]
