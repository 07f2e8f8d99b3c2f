"""Parts' OpenAPI document covers every route as the code handles it: each ``json_api`` route
documents its answer (a response model, or other media), each route that reads a body or its
query names the model it validates with, the status of success is the one the route returns,
the bodies' examples are valid, and the answers' models forbid undocumented fields. (Whether
the running service answers what the document says: ``conformance.py`` in every integration
test, and tests/test_openapi_fuzz.py.)"""
from __future__ import annotations

import inspect
import re

import pytest
from pydantic import BaseModel

from aftersales.openapi import document, routes
from services.parts import bodies, responses, service
from services.parts.service import PartsService

API = [(m, p, fn, doc) for m, p, fn, doc in routes(PartsService) if p.startswith("/api/")]
IDS = [f"{m} {p}" for m, p, _, _ in API]


def source(fn) -> str:
    """The route's code, with the module's helpers it calls (``_ledger_report``)."""
    text = inspect.getsource(inspect.unwrap(fn))
    helpers = [obj for name, obj in vars(service).items()
               if inspect.isfunction(obj) and obj.__module__ == service.__name__
               and re.search(rf"\b{name}\b", text)]
    return "\n".join([text, *(inspect.getsource(h) for h in helpers)])


def test_every_route_of_the_api_is_documented():
    assert len(API) == 24
    assert {p for _, p, _, _ in API} == {p for p in document(PartsService)["paths"]
                                         if p.startswith("/api/")}


@pytest.mark.parametrize("method,path,fn,doc", API, ids=IDS)
def test_each_route_documents_its_answer(method, path, fn, doc):
    assert doc.route == path
    assert doc.response is not None or doc.media, f"{method} {path} documents no answer"
    assert doc.response is None or issubclass(doc.response, BaseModel)


@pytest.mark.parametrize("method,path,fn,doc", API, ids=IDS)
def test_the_body_and_the_query_documented_are_those_the_route_validates(method, path, fn, doc):
    code = source(fn)
    parsed = re.findall(r"\bparse\((\w+)", code)
    queried = re.findall(r"\bparse_query\((\w+)", code)
    assert [getattr(bodies, m) for m in parsed] == ([doc.body] if doc.body else [])
    assert [getattr(bodies, m) for m in queried] == ([doc.query] if doc.query else [])
    assert "request.args" not in code and "a.get(" not in code   # the query only via its model


@pytest.mark.parametrize("method,path,fn,doc", API, ids=IDS)
def test_the_documented_status_is_the_one_the_route_returns(method, path, fn, doc):
    returned = {int(s) for s in re.findall(r"return (\d{3}),", source(fn))}
    assert returned <= {doc.status}, f"{method} {path} returns {returned}, documents {doc.status}"
    if doc.body is not None and method == "POST" and "/" not in path.removeprefix("/api/v1/"):
        assert doc.status == 201            # creating something


BODIES = sorted({d.body for _, _, _, d in API if d.body}, key=lambda m: m.__name__)


@pytest.mark.parametrize("model", BODIES, ids=[m.__name__ for m in BODIES])
def test_every_body_has_valid_examples_with_chinese_data(model):
    examples = model.model_json_schema().get("examples")
    assert examples, f"{model.__name__} has no examples"
    for example in examples:
        model.model_validate(example)
    assert any(re.search(r"[\u4e00-\u9fff]", str(e)) for e in examples) or \
        model is bodies.ReorderPointBody      # codes and numbers only


def answers(model, seen=None) -> set[type[BaseModel]]:
    """The model and every model nested in its fields."""
    seen = set() if seen is None else seen
    if model in seen:
        return seen
    seen.add(model)
    for f in model.model_fields.values():
        for arg in _types(f.annotation):
            answers(arg, seen)
    return seen


def _types(annotation):
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in getattr(annotation, "__args__", ()):
        yield from _types(arg)


def test_the_answers_forbid_undocumented_fields():
    models = set().union(*(answers(d.response) for _, _, _, d in API))
    assert responses.HistoryEntry in models and responses.Position in models
    for model in models:
        assert model.model_config.get("extra") == "forbid", model.__name__


def test_query_parameters_are_typed_in_the_document():
    doc = document(PartsService)
    params = {(p, q["name"]): q for p, ops in doc["paths"].items() for op in ops.values()
              for q in op.get("parameters", ()) if q["in"] == "query"}
    assert params[("/api/v1/ledger", "limit")]["schema"] == {
        "default": 200, "description": "at most this many, newest first", "maximum": 1000,
        "minimum": 1, "title": "Limit", "type": "integer"}
    assert params[("/api/v1/parts-requests", "status")]["schema"]["enum"][0] == "pending_approval"
    assert params[("/api/v1/reports/ledger", "month")]["required"] is True
    assert not any("anyOf" in q["schema"] for q in params.values())   # no null in a query
