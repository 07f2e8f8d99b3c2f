"""Intake's OpenAPI document covers every route (issue #15): each ``json_api`` route says what
it answers (a response model or other media), each route that reads a body names its model, the
examples are valid, and the ticket list's query is parsed by the model the document shows."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from pydantic import BaseModel

from aftersales.errors import InvalidInput
from aftersales.openapi import document, routes
from services.intake import bodies, responses
from services.intake.bodies import TicketQuery
from services.intake.service import IntakeService
from services.intake.service_layer.views import timeline_entry

API = [(m, p, fn, doc) for m, p, fn, doc in routes(IntakeService) if p.startswith("/api/")]


def test_every_api_route_is_documented():
    assert len(API) == 8
    for method, path, fn, doc in API:
        assert doc.route == path, (method, path)
        assert doc.response is not None or doc.media, f"{method} {path}: no response documented"
        if method in ("POST", "PUT", "PATCH"):
            assert doc.body is not None, f"{method} {path}: its body is not documented"
        if doc.response is not None and doc.response is not responses.TimelineEntry:
            assert doc.response.model_config.get("extra") == "forbid", (method, path)


def test_the_document_lists_the_query_parameters_as_the_route_reads_them():
    op = document(IntakeService)["paths"]["/api/v1/tickets"]["get"]
    params = {p["name"]: p["schema"] for p in op["parameters"]}
    assert set(params) == {"branch", "status", "priority", "phone", "from", "to", "page",
                           "per_page"}
    assert params["per_page"]["maximum"] == 200 and params["priority"]["enum"] == ["A", "B", "C"]
    assert all("anyOf" not in s and s.get("default", 0) is not None for s in params.values())


def _models(module):
    return [m for m in vars(module).values() if isinstance(m, type) and issubclass(m, BaseModel)
            and m.__module__ == module.__name__ and not m.__name__.startswith("_")]


@pytest.mark.parametrize("model", _models(bodies) + _models(responses), ids=lambda m: m.__name__)
def test_every_example_is_valid_against_its_model(model):
    for example in model.model_json_schema().get("examples", ()):
        model.model_validate(example)


def test_every_body_has_an_example_in_chinese():
    for model in _models(bodies):
        if model is TicketQuery:
            continue
        [example] = model.model_json_schema()["examples"]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in str(example)), model.__name__


def test_the_query_keeps_its_fields_and_messages():
    q = TicketQuery.read({"from": "2026-11-20", "per_page": "5", "page": "", "x": "ignored"})
    assert (q.from_.isoformat(), q.per_page, q.page, q.branch) == ("2026-11-20", 5, 1, None)
    with pytest.raises(InvalidInput) as exc:
        TicketQuery.read({"per_page": "1000", "page": "x", "from": "yesterday", "priority": "Z"})
    assert {e["field"]: e["message"] for e in exc.value.errors} == {
        "per_page": "must be a whole number from 1 to 200",
        "page": "must be a whole number from 1 to 100000",
        "from": "must be a date (YYYY-MM-DD)", "priority": "must be A, B or C"}


@pytest.mark.parametrize("field, day", [("to", "9999-12-31"), ("from", "0001-01-01")])
def test_a_day_with_no_instant_to_compare_is_refused_by_name(field, day):
    """Regression: ``to=9999-12-31`` (the day after overflows) and ``from=0001-01-01`` (before
    the UTC instant's year 1) were 500s; now a 422 naming the parameter."""
    with pytest.raises(InvalidInput) as exc:
        TicketQuery.read({field: day})
    assert [e["field"] for e in exc.value.errors] == [field]


def test_an_event_field_named_like_the_envelopes_does_not_replace_it():
    """Regression: ``complaint_registered``'s ``source`` ("agent") replaced the entry's
    ``source`` (the service that published it, "feedback")."""
    at = datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc)
    entry = timeline_entry({"type": "complaint_registered", "source": "feedback",
                            "occurred_at": at, "event_id": "e-1",
                            "data": {"source": "agent", "severity": "high", "type": "x"}})
    assert entry["source"] == "feedback" and entry["type"] == "complaint_registered"
    assert (entry["data_source"], entry["data_type"], entry["severity"]) == ("agent", "x", "high")
    responses.TimelineEntry.model_validate(entry)
