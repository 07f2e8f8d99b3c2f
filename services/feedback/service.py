"""The feedback nameko service: turns messages, HTTP requests and timer ticks into handler
calls."""
from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from nameko.extensions import DependencyProvider
from nameko.timer import Timer
from pydantic import BaseModel, ConfigDict, Field

from aftersales import metrics
from aftersales.clock import utcnow
from aftersales.contracts.events import CATEGORIES, COMPLAINT_SEVERITIES
from aftersales.errors import InvalidInput
from aftersales.messaging.entrypoint import consume_events
from aftersales.reference import branches
from aftersales.service import (BaseService, Store, json_api, parse, query_time, read_json,
                                report_response)
from aftersales.web import http

from .adapters.unit_of_work import FeedbackUnitOfWork
from .domain import model
from .domain import visits as rv
from .service_layer import handlers

log = logging.getLogger(__name__)


class ConfiguredTimer(Timer):
    """``@timer`` whose interval comes from the service's config (``AFTERSALES[setting]``)."""

    def __init__(self, setting: str, default: float, **kwargs):
        super().__init__(interval=default, eager=False, **kwargs)
        self.setting = setting

    def setup(self):
        self.interval = float(self.container.config.get("AFTERSALES", {})
                              .get(self.setting, self.interval))


scheduled = ConfiguredTimer.decorator


def init_series(reference_dir=None) -> dict:
    """Feedback's metric series for every branch (and severity) at zero."""
    known = branches(reference_dir)
    for code in known:
        metrics.csat_score.labels(code)
        for severity in COMPLAINT_SEVERITIES:
            metrics.complaints_total.labels(code, severity)
    return known


class MetricSeries(DependencyProvider):
    """Initialises the series when the service starts, before the first scrape."""

    def setup(self):
        init_series(self.container.config.get("AFTERSALES", {}).get("reference_dir"))


# -- HTTP bodies ------------------------------------------------------------------------------
class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ComplaintBody(_Body):
    ticket_no: str = Field(min_length=1, max_length=40)
    branch: str | None = Field(default=None, max_length=20)
    severity: Literal[COMPLAINT_SEVERITIES]
    description: str = Field(min_length=1, max_length=5000)
    owner: str | None = Field(default=None, max_length=100)
    deadline: datetime | None = None


class TextBody(_Body):
    text: str = Field(min_length=1, max_length=5000)


class AssignBody(_Body):
    owner: str = Field(min_length=1, max_length=100)


class ConfirmBody(_Body):
    satisfied: bool
    note: str | None = Field(default=None, max_length=2000)


class CloseBody(_Body):
    note: str = Field(min_length=1, max_length=5000)


class VisitOutcomeBody(_Body):
    outcome: Literal[rv.OUTCOMES]
    notes: str | None = Field(default=None, max_length=5000)
    problem: str | None = Field(default=None, max_length=5000)
    category: Literal[CATEGORIES] | None = None
    priority: Literal["A", "B", "C"] | None = None


def _floats(raw, default) -> tuple:
    if raw is None or raw == "":
        return tuple(default)
    if isinstance(raw, (list, tuple)):
        return tuple(float(x) for x in raw)
    return tuple(float(x) for x in str(raw).split(",") if x.strip())


class FeedbackService(BaseService):
    name = "feedback"
    store = Store(Path(__file__).parent / "migrations", FeedbackUnitOfWork)

    series = MetricSeries()

    def _branches(self) -> dict:
        return init_series(self.store.config.get("reference_dir"))

    def _settings(self) -> handlers.Settings:
        c = self.store.config
        return handlers.Settings(
            branches=self._branches(),
            valid_days=float(c.get("survey_valid_days", model.DEFAULT_VALID_DAYS)),
            reminder_days=_floats(c.get("survey_reminder_days"), model.DEFAULT_REMINDER_DAYS),
            visit_months=tuple(int(m) for m in _floats(c.get("visit_months"),
                                                       rv.DEFAULT_VISIT_MONTHS)))

    @staticmethod
    def _count(outcome):
        if outcome is None:
            return None
        for branch, severity in outcome.complaints:
            metrics.complaints_total.labels(branch, severity).inc()
        return outcome.view

    # -- the bus and the scheduler ----------------------------------------------------------------
    @consume_events("aftersales.feedback.events")
    def on_event(self, envelope):
        self._count(handlers.handle_event(self.store.uow(), envelope, self._settings()))

    @scheduled("feedback_scan_interval", 60.0)
    def scan(self):
        done = handlers.scan(self.store.uow, self._settings())
        if done:
            log.info("scheduler: %s", done)

    # -- surveys ----------------------------------------------------------------------------------
    @http("GET", "/api/v1/surveys/<string:token>")
    @json_api("/api/v1/surveys/{token}")
    def get_survey(self, request, token):
        return 200, handlers.customer_view(self.store.uow(), token)

    @http("POST", "/api/v1/surveys/<string:token>")
    @json_api("/api/v1/surveys/{token}")
    def post_survey(self, request, token):
        body = read_json(request)
        survey = handlers.answer_survey(self.store.uow(), token, body)
        return 200, self._answered(survey)

    @http("POST", "/api/v1/surveys/<string:survey_id>/phone-answer")
    @json_api("/api/v1/surveys/{survey_id}/phone-answer")
    def post_phone_answer(self, request, survey_id):
        principal = self.store.principal(request)
        survey = handlers.record_phone_answer(self.store.uow(), principal, survey_id,
                                              read_json(request))
        return 200, self._answered(survey)

    def _answered(self, survey) -> dict:
        self._branches()
        metrics.csat_score.labels(survey.branch).observe(survey.answer.scores["overall"])
        return {"survey_id": survey.survey_id, "ticket_no": survey.ticket_no,
                "status": "answered", "answered_at": survey.answered_at.isoformat(),
                "channel": survey.channel, "follow_up_required": survey.follow_up_required,
                "message": "感谢您的评价！"}

    @http("GET", "/api/v1/surveys")
    @json_api("/api/v1/surveys")
    def list_surveys(self, request):
        principal = self.store.principal(request)
        return 200, handlers.staff_view(self.store.uow(), principal, request.args.get("ticket_no"))

    @http("GET", "/api/v1/follow-ups")
    @json_api("/api/v1/follow-ups")
    def list_follow_ups(self, request):
        principal = self.store.principal(request)
        a = request.args
        return 200, handlers.list_follow_ups(self.store.uow(), principal, self._branches(),
                                             a.get("branch"), a.get("status"))

    @http("POST", "/api/v1/follow-ups/<string:follow_up_id>/close")
    @json_api("/api/v1/follow-ups/{follow_up_id}/close")
    def close_follow_up(self, request, follow_up_id):
        principal = self.store.principal(request)
        body = parse(CloseBody, request)
        return 200, handlers.close_follow_up(self.store.uow(), principal, follow_up_id, body.note)

    # -- complaints -------------------------------------------------------------------------------
    @http("POST", "/api/v1/complaints")
    @json_api("/api/v1/complaints")
    def post_complaint(self, request):
        principal = self.store.principal(request)
        body = parse(ComplaintBody, request)
        if body.deadline is not None and body.deadline.tzinfo is None:
            body.deadline = body.deadline.replace(tzinfo=ZoneInfo(handlers.DEFAULT_TZ))
        return 201, self._count(handlers.register_complaint(
            self.store.uow(), principal, self._branches(), ticket_no=body.ticket_no,
            branch=body.branch, severity=body.severity, description=body.description,
            owner=body.owner, deadline=body.deadline))

    @http("GET", "/api/v1/complaints")
    @json_api("/api/v1/complaints")
    def list_complaints(self, request):
        principal = self.store.principal(request)
        a = request.args
        return 200, handlers.list_complaints(self.store.uow(), principal, self._branches(),
                                             a.get("branch"), a.get("status"), a.get("ticket_no"))

    @http("GET", "/api/v1/complaints/<string:complaint_id>")
    @json_api("/api/v1/complaints/{complaint_id}")
    def get_complaint(self, request, complaint_id):
        principal = self.store.principal(request)
        return 200, handlers.get_complaint(self.store.uow(), principal, complaint_id)

    @http("POST", "/api/v1/complaints/<string:complaint_id>/<string:action>")
    @json_api("/api/v1/complaints/{complaint_id}/{action}")
    def complaint_action(self, request, complaint_id, action):
        principal = self.store.principal(request)
        uow = self.store.uow()
        if action in ("note", "resolve"):
            body = parse(TextBody, request)
            return 200, handlers.act_on_complaint(uow, principal, complaint_id, action,
                                                  text=body.text)
        if action == "assign":
            body = parse(AssignBody, request)
            return 200, handlers.act_on_complaint(uow, principal, complaint_id, action,
                                                  owner=body.owner)
        if action == "confirm":
            body = parse(ConfirmBody, request)
            return 200, handlers.act_on_complaint(uow, principal, complaint_id, action,
                                                  text=body.note, satisfied=body.satisfied)
        raise InvalidInput([{"field": "action",
                             "message": "must be note, assign, resolve or confirm"}])

    # -- return visits and plans ------------------------------------------------------------------
    @http("GET", "/api/v1/return-visits")
    @json_api("/api/v1/return-visits")
    def list_visits(self, request):
        principal = self.store.principal(request)
        a = request.args
        status = a.get("status", "scheduled")
        due_before = query_time(a.get("due_before"), "due_before", handlers.DEFAULT_TZ)
        if status == "scheduled" and due_before is None and a.get("all") != "1":
            due_before = utcnow()   # the due list
        return 200, handlers.list_visits(self.store.uow(), principal, self._branches(),
                                         a.get("branch"), status or None, due_before,
                                         a.get("ticket_no"))

    @http("POST", "/api/v1/return-visits/<string:visit_id>/outcome")
    @json_api("/api/v1/return-visits/{visit_id}/outcome")
    def post_visit_outcome(self, request, visit_id):
        principal = self.store.principal(request)
        body = parse(VisitOutcomeBody, request)
        return 200, handlers.record_visit(self.store.uow(), principal, visit_id, body.outcome,
                                          body.notes, body.problem, body.category, body.priority)

    @http("GET", "/api/v1/visit-plans")
    @json_api("/api/v1/visit-plans")
    def list_plans(self, request):
        return 200, handlers.list_plans(self.store.uow(), self.store.principal(request))

    @http("PUT", "/api/v1/visit-plans/<string:plan_id>")
    @json_api("/api/v1/visit-plans/{plan_id}")
    def put_plan(self, request, plan_id):
        principal = self.store.principal(request)
        return 200, handlers.put_plan(self.store.uow(), principal, plan_id, read_json(request))

    @http("POST", "/api/v1/visit-plans/<string:plan_id>/generate")
    @json_api("/api/v1/visit-plans/{plan_id}/generate")
    def generate_plan(self, request, plan_id):
        principal = self.store.principal(request)
        raw = request.args.get("year", "")
        if not raw.isdigit():
            raise InvalidInput([{"field": "year", "message": "is required (e.g. 2027)"}])
        return 200, handlers.generate_plan(self.store.uow(), principal, plan_id, int(raw))

    # -- statistics -------------------------------------------------------------------------------
    @http("GET", "/api/v1/reports/monthly")
    def monthly_report(self, request):
        return report_response(
            self, request, "/api/v1/reports/monthly",
            lambda svc, req: handlers.monthly_report(
                svc.store.uow(), svc.store.principal(req), svc._settings(),
                req.args.get("branch"), req.args.get("month")),
            handlers.report_csv, lambda r: f"quality-{r['branch']}-{r['month']}.csv")
