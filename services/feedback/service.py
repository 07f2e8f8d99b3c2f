"""The feedback nameko service: consumed events, HTTP requests and the scheduler's ticks,
each handed to the bus (``bootstrap.py``) as an event or a command; reads go to the views."""
from __future__ import annotations

import logging
from datetime import timezone
from pathlib import Path

from nameko.extensions import DependencyProvider

from aftersales import metrics
from aftersales.clock import utcnow
from aftersales.contracts.events import COMPLAINT_SEVERITIES
from aftersales.errors import InvalidInput
from aftersales.localtime import iso
from aftersales.messaging.entrypoint import consume_events
from aftersales.openapi import documented
from aftersales.reference import branches
from aftersales.service import (BaseService, Bus, Store, json_api, parse, query_time, read_json,
                                report_response)
from aftersales.timer import configured_timer
from aftersales.web import http

from . import bootstrap
from . import responses as r
from .adapters.unit_of_work import FeedbackUnitOfWork
from .bodies import (AssignBody, CloseBody, ComplaintActionBody, ComplaintBody, ComplaintsQuery,
                     ConfirmBody, FollowUpsQuery, GenerateQuery, PlanBody, ReportQuery,
                     SurveyAnswerBody, SurveysQuery, TextBody, VisitOutcomeBody, VisitsQuery,
                     query)
from .service_layer import commands, reports, views
from .service_layer import scan as scheduler
from .service_layer.common import DEFAULT_TZ

log = logging.getLogger(__name__)
CSV = {"text/csv": {"schema": {"type": "string", "description": "branch, month, section, key, "
                                                              "metric, value (UTF-8)"}}}

# POST /api/v1/complaints/{id}/{action}: the body each action takes and the command it makes
COMPLAINT_ACTIONS = {
    "note": (TextBody, lambda p, cid, b: commands.AddComplaintNote(p, cid, b.text)),
    "assign": (AssignBody, lambda p, cid, b: commands.AssignComplaint(p, cid, b.owner)),
    "resolve": (TextBody, lambda p, cid, b: commands.ResolveComplaint(p, cid, b.text)),
    "confirm": (ConfirmBody, lambda p, cid, b: commands.ConfirmComplaint(p, cid, b.satisfied,
                                                                         b.note)),
}


def init_series(reference_dir=None) -> dict:
    """Feedback's metric series for every branch (and severity) at zero."""
    known = branches(reference_dir)
    for code in known:
        metrics.csat_score.labels(code)
        for severity in COMPLAINT_SEVERITIES:
            metrics.complaints_total.labels(code, severity)
    return known


def _instant(raw: str | None, name: str):
    """A query's date or time (no offset: Beijing time) that is a UTC instant too: the year
    0001 or 9999 with an offset (out of a datetime's range in UTC) was a 500."""
    value = query_time(raw, name, DEFAULT_TZ)
    try:
        return value.astimezone(timezone.utc) if value is not None else None
    except OverflowError:
        raise InvalidInput([{"field": name, "message": "is out of range"}]) from None


class MetricSeries(DependencyProvider):
    """Initialises the series when the service starts, before the first scrape."""

    def setup(self):
        init_series(self.container.config.get("AFTERSALES", {}).get("reference_dir"))


class FeedbackService(BaseService):
    name = "feedback"
    store = Store(Path(__file__).parent / "migrations", FeedbackUnitOfWork)
    bus = Bus(bootstrap.build)

    series = MetricSeries()

    def _branches(self) -> dict:
        return init_series(self.store.config.get("reference_dir"))

    @staticmethod
    def _count(outcome):
        if outcome is None:
            return None
        for branch, severity in outcome.complaints:
            metrics.complaints_total.labels(branch, severity).inc()
        return outcome.view

    # -- consumed events and the scheduler --------------------------------------------------------
    @consume_events("aftersales.feedback.events", batch=16)
    def on_event(self, envelopes):
        for outcome in self.bus.handle_events(envelopes):
            self._count(outcome)

    @configured_timer("feedback_scan_interval", 60.0)
    def scan(self):
        done = scheduler.run(self.bus)
        if done:
            log.info("scheduler: %s", done)

    # -- surveys ----------------------------------------------------------------------------------
    @http("GET", "/api/v1/surveys/<string:token>")
    @json_api("/api/v1/surveys/{token}", response=r.CustomerSurvey, errors=(410,),
              summary="The survey of a customer's link (the token is the credential)")
    def get_survey(self, request, token):
        return 200, views.customer_view(self.store.uow(), token)

    @http("POST", "/api/v1/surveys/<string:token>")
    @json_api("/api/v1/surveys/{token}", body=SurveyAnswerBody, response=r.SurveyAnswered,
              errors=(409, 410), summary="The customer answers the survey of the link")
    def post_survey(self, request, token):
        body = read_json(request)
        return 200, self._answered(self.bus.handle(commands.AnswerSurvey(token, body)))

    @http("POST", "/api/v1/surveys/<string:survey_id>/phone-answer")
    @json_api("/api/v1/surveys/{survey_id}/phone-answer", body=SurveyAnswerBody,
              response=r.SurveyAnswered, errors=(409, 410),
              summary="An agent records the answers the customer gave on the phone")
    def post_phone_answer(self, request, survey_id):
        principal = self.store.principal(request)
        survey = self.bus.handle(commands.RecordPhoneAnswer(principal, survey_id,
                                                            read_json(request)))
        return 200, self._answered(survey)

    def _answered(self, survey) -> dict:
        self._branches()
        metrics.csat_score.labels(survey.branch).observe(survey.answer.scores["overall"])
        return {"survey_id": survey.survey_id, "ticket_no": survey.ticket_no,
                "status": "answered", "answered_at": iso(survey.answered_at),
                "channel": survey.channel, "follow_up_required": survey.follow_up_required,
                "message": "感谢您的评价！"}

    @http("GET", "/api/v1/surveys")
    @json_api("/api/v1/surveys", query=SurveysQuery, response=r.TicketSurveys,
              summary="The surveys of a ticket (staff of its branch, or HQ)")
    def list_surveys(self, request):
        principal = self.store.principal(request)
        q = query(SurveysQuery, request)
        return 200, views.staff_view(self.store.uow(), principal, q.ticket_no)

    @http("GET", "/api/v1/follow-ups")
    @json_api("/api/v1/follow-ups", query=FollowUpsQuery, response=r.FollowUps,
              summary="The low-score follow-ups of a branch (or of every branch)")
    def list_follow_ups(self, request):
        principal = self.store.principal(request)
        q = query(FollowUpsQuery, request)
        return 200, views.list_follow_ups(self.store.uow(), principal, self._branches(),
                                          q.branch, q.status)

    @http("POST", "/api/v1/follow-ups/<string:follow_up_id>/close")
    @json_api("/api/v1/follow-ups/{follow_up_id}/close", body=CloseBody, response=r.FollowUp,
              errors=(409,), summary="The supervisor closes a follow-up")
    def close_follow_up(self, request, follow_up_id):
        principal = self.store.principal(request)
        body = parse(CloseBody, request)
        return 200, self.bus.handle(commands.CloseFollowUp(principal, follow_up_id, body.note))

    # -- complaints -------------------------------------------------------------------------------
    @http("POST", "/api/v1/complaints")
    @json_api("/api/v1/complaints", body=ComplaintBody, response=r.Complaint, status=201,
              summary="Register a complaint about a ticket")
    def post_complaint(self, request):
        principal = self.store.principal(request)
        body = parse(ComplaintBody, request)
        return 201, self._count(self.bus.handle(commands.RegisterComplaint(
            principal, ticket_no=body.ticket_no, branch=body.branch, severity=body.severity,
            description=body.description, owner=body.owner, deadline=body.deadline)))

    @http("GET", "/api/v1/complaints")
    @json_api("/api/v1/complaints", query=ComplaintsQuery, response=r.Complaints,
              summary="The complaints of a branch (or of every branch)")
    def list_complaints(self, request):
        principal = self.store.principal(request)
        q = query(ComplaintsQuery, request)
        return 200, views.list_complaints(self.store.uow(), principal, self._branches(),
                                          q.branch, q.status, q.ticket_no)

    @http("GET", "/api/v1/complaints/<string:complaint_id>")
    @json_api("/api/v1/complaints/{complaint_id}", response=r.Complaint,
              summary="One complaint, its notes and its resolution")
    def get_complaint(self, request, complaint_id):
        principal = self.store.principal(request)
        return 200, views.get_complaint(self.store.uow(), principal, complaint_id)

    @http("POST", "/api/v1/complaints/<string:complaint_id>/<string:action>")
    @json_api("/api/v1/complaints/{complaint_id}/{action}", body=ComplaintActionBody,
              response=r.Complaint, errors=(409,),
              summary="Work on a complaint: action note, assign, resolve or confirm")
    def complaint_action(self, request, complaint_id, action):
        principal = self.store.principal(request)
        if action not in COMPLAINT_ACTIONS:
            raise InvalidInput([{"field": "action",
                                 "message": "must be note, assign, resolve or confirm"}])
        body_model, command = COMPLAINT_ACTIONS[action]
        body = parse(body_model, request)
        return 200, self.bus.handle(command(principal, complaint_id, body))

    # -- return visits and plans ------------------------------------------------------------------
    @http("GET", "/api/v1/return-visits")
    @json_api("/api/v1/return-visits", query=VisitsQuery, response=r.Visits,
              summary="The return visits of a branch: by default the due list")
    def list_visits(self, request):
        principal = self.store.principal(request)
        q = query(VisitsQuery, request)
        due_before = _instant(q.due_before, "due_before")
        if q.status == "scheduled" and due_before is None and q.all != "1":
            due_before = utcnow()   # the due list
        return 200, views.list_visits(self.store.uow(), principal, self._branches(),
                                      q.branch, q.status or None, due_before, q.ticket_no)

    @http("POST", "/api/v1/return-visits/<string:visit_id>/outcome")
    @json_api("/api/v1/return-visits/{visit_id}/outcome", body=VisitOutcomeBody,
              response=r.Visit, errors=(409,),
              summary="Record a return visit's outcome (a problem found opens a new request)")
    def post_visit_outcome(self, request, visit_id):
        principal = self.store.principal(request)
        body = parse(VisitOutcomeBody, request)
        return 200, self.bus.handle(commands.RecordVisitOutcome(
            principal, visit_id, body.outcome, body.notes, body.problem, body.category,
            body.priority))

    @http("GET", "/api/v1/visit-plans")
    @json_api("/api/v1/visit-plans", response=r.Plans, summary="The return-visit plans")
    def list_plans(self, request):
        return 200, views.list_plans(self.store.uow(), self.store.principal(request))

    @http("PUT", "/api/v1/visit-plans/<string:plan_id>")
    @json_api("/api/v1/visit-plans/{plan_id}", body=PlanBody, response=r.Plan,
              summary="Create or replace a return-visit plan (HQ managers)")
    def put_plan(self, request, plan_id):
        principal = self.store.principal(request)
        return 200, self.bus.handle(commands.PutVisitPlan(principal, plan_id, read_json(request)))

    @http("POST", "/api/v1/visit-plans/<string:plan_id>/generate")
    @json_api("/api/v1/visit-plans/{plan_id}/generate", query=GenerateQuery, response=r.PlanRun,
              summary="Schedule a plan's visits of a year now (HQ managers)")
    def generate_plan(self, request, plan_id):
        principal = self.store.principal(request)
        year = query(GenerateQuery, request).year
        return 200, self.bus.handle(commands.GenerateVisitPlan(principal, plan_id, year))

    # -- statistics -------------------------------------------------------------------------------
    @http("GET", "/api/v1/reports/monthly")
    @documented(route="/api/v1/reports/monthly", query=ReportQuery, response=r.MonthlyReport,
                media=CSV, summary="The monthly quality report of a branch (JSON, or CSV)")
    def monthly_report(self, request):
        return report_response(
            self, request, "/api/v1/reports/monthly",
            lambda svc, req: reports.monthly_report(
                svc.store.uow(), svc.store.principal(req), bootstrap.settings(svc.store.config),
                req.args.get("branch"), req.args.get("month")),
            reports.report_csv, lambda r: f"quality-{r['branch']}-{r['month']}.csv")
