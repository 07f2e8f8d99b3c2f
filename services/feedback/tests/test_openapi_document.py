"""Feedback's OpenAPI document covers every route: each json_api route documents its answer
(a response model, or another media type), each route that reads a body or query parameters
documents them; every answer model forbids undocumented fields; the bodies' examples are
valid (for the bodies the domain checks, by the domain's own rules); the views' documents
match their models (tests/test_openapi_fuzz.py checks the running service)."""
from __future__ import annotations

import inspect
from datetime import datetime, timedelta, timezone

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from pydantic import BaseModel

from aftersales.openapi import REF, document, routes
from services.feedback import bodies
from services.feedback import responses as r
from services.feedback.domain import complaints as cp
from services.feedback.domain import model, stats
from services.feedback.domain import visits as rv
from services.feedback.service import FeedbackService
from services.feedback.service_layer import views

from .test_stats_domain import answered, report

PLATFORM = {"/health", "/metrics", "/openapi.json", "/docs"}   # BaseService's, documented there
NOW = datetime(2026, 11, 22, 2, 30, tzinfo=timezone.utc)


def _own_routes():
    return [(m, p, fn, d) for m, p, fn, d in routes(FeedbackService) if p not in PLATFORM]


def _source(fn) -> str:
    return inspect.getsource(inspect.unwrap(fn))


def test_every_route_documents_its_answer_body_and_query():
    doc = document(FeedbackService)
    found = _own_routes()
    assert len(found) == 16
    for method, path, fn, rd in found:
        op = doc["paths"][path][method.lower()]
        where = f"{method} {path}"
        assert rd.response is not None or rd.media, f"{where}: no answer documented"
        assert op["responses"][str(rd.status)].get("content"), where
        src = _source(fn)
        reads_body = "parse(" in src or "read_json(" in src
        assert reads_body == (rd.body is not None), f"{where}: body= does not match the code"
        reads_query = "args" in src or "query(" in src
        assert reads_query == (rd.query is not None), f"{where}: query= does not match the code"
        assert op["summary"] and op["operationId"] == f"feedback_{fn.__name__}"


def test_the_report_documents_its_csv_download():
    op = document(FeedbackService)["paths"]["/api/v1/reports/monthly"]["get"]
    assert set(op["responses"]["200"]["content"]) == {"application/json", "text/csv"}
    assert {p["name"] for p in op["parameters"]} == {"branch", "month", "format"}


def test_every_answer_model_forbids_undocumented_fields():
    schemas = document(FeedbackService)["components"]["schemas"]
    answers = {name for name, obj in vars(r).items()
               if isinstance(obj, type) and issubclass(obj, BaseModel) and obj.__module__ == r.__name__
               and not name.startswith("_")}
    assert answers <= set(schemas)
    for name in answers:
        assert schemas[name].get("additionalProperties") is False, name


BODIES = [bodies.ComplaintBody, bodies.TextBody, bodies.AssignBody, bodies.ConfirmBody,
          bodies.ComplaintActionBody, bodies.CloseBody, bodies.VisitOutcomeBody,
          bodies.SurveyAnswerBody, bodies.PlanBody]


@pytest.mark.parametrize("body", BODIES, ids=lambda b: b.__name__)
def test_the_bodies_have_valid_chinese_examples(body):
    examples = body.model_json_schema()["examples"]
    assert examples
    validator = Draft202012Validator(body.model_json_schema(), format_checker=FormatChecker())
    for example in examples:
        body.model_validate(example)
        validator.validate(example)
    assert any(any("\u4e00" <= ch <= "\u9fff" for ch in str(e)) for e in examples)


def test_the_domain_accepts_the_examples_of_the_bodies_it_checks():
    for example in bodies.SurveyAnswerBody.model_json_schema()["examples"]:
        assert model.answer_errors(example) == []
    for example in bodies.PlanBody.model_json_schema()["examples"]:
        assert rv.plan_errors(example) == []


def test_the_answer_body_describes_the_domain_rules():
    schema = bodies.SurveyAnswerBody.model_json_schema()
    assert set(schema["required"]) == {*model.DIMENSIONS, "recommend"}
    for field in model.DIMENSIONS:
        prop = schema["properties"][field]
        assert (prop["minimum"], prop["maximum"]) == model.SCORE_RANGE
    assert (schema["properties"]["recommend"]["minimum"],
            schema["properties"]["recommend"]["maximum"]) == model.RECOMMEND_RANGE


def _validate(response_model: type[BaseModel], doc: dict) -> None:
    schema = response_model.model_json_schema(mode="serialization", ref_template=REF)
    defs = schema.pop("$defs", {})
    full = {**schema, "components": {"schemas": defs}}
    Draft202012Validator(full, format_checker=FormatChecker()).validate(doc)


def test_the_views_documents_match_their_models():
    c = cp.register("SH-20261122-000123", "SH", "agent", "high", "屋面漏水", NOW, owner="李娜")
    c.add_note("SH-agent", "已致电张伟", NOW)
    c.escalate(NOW + timedelta(days=2))
    _validate(r.Complaint, views.complaint_doc(c, NOW))
    c.resolve("SH-agent", "更换防水卷材", NOW + timedelta(days=2))
    c.confirm(True, NOW + timedelta(days=3), "满意")
    _validate(r.Complaints, {"branch": None, "complaints": [views.complaint_doc(c, NOW)]})

    job = rv.JobFacts("SH-20261122-000123", "SH", customer={"name": "上海某物业", "contact_name": "张伟",
                                                              "phone": "13812345678"},
                      site={"address": "上海市浦东新区世纪大道100号"}, closed_at=NOW)
    [v, *_] = rv.after_completion(job)
    _validate(r.Visit, views.visit_doc(v, NOW))
    v.record("problem_found", "SH-agent", NOW, "天沟渗水")
    listed = {**views.visit_doc(v, NOW), "customer": {"name": "上海某物业", "contact_name": "张伟",
                                                      "phone": "13812345678"}, "site": job.site}
    _validate(r.Visits, {"branch": "SH", "visits": [listed, views.visit_doc(v, NOW)]})

    s = answered(2, 3)
    fu = model.open_follow_up(s, s.answer, NOW)
    _validate(r.FollowUps, {"branch": "SH", "follow_ups": [views.follow_up_doc(fu, NOW)]})
    fu.close("SH-manager", "已回访", NOW)
    _validate(r.FollowUp, views.follow_up_doc(fu, NOW))

    staff = views._staff_doc(s, NOW, show_token=True)
    staff["contact"] = {"contact_name": "张伟", "phone": "13812345678", "email": None}
    _validate(r.TicketSurveys, {"ticket_no": "T", "surveys": [staff, views._staff_doc(s, NOW, False)]})
    _validate(r.CustomerSurvey, {"survey_id": s.survey_id, "ticket_no": "T", "status": "pending",
                                 "expires_at": s.expires_at.isoformat(),
                                 "questions": views.questions()})

    plan = rv.plan_from("rainy-season-roof", bodies.PlanBody.model_json_schema()["examples"][0])
    _validate(r.Plans, {"plans": [views.plan_doc(plan)]})


def test_the_monthly_report_matches_its_model():
    _validate(r.MonthlyReport, report())
    busy = report(surveys=[answered(5, 10), answered(2, 3, low_dim="attitude")],
                  causes=[stats.CauseFact("SH", "material", NOW, "E1")],
                  parts=[stats.PartFact("SH", "PT-ROOF-01", 3, NOW)],
                  sla=[stats.SlaFact("SH", "response", True, NOW)])
    assert busy["engineers"] and busy["surveys"]["csat"] == 50.0
    _validate(r.MonthlyReport, busy)
