"""The feedback nameko service: turns messages and HTTP requests into handler calls."""
from __future__ import annotations

from pathlib import Path

from nameko.web.handlers import http

from aftersales import metrics
from aftersales.messaging.entrypoint import consume_events
from aftersales.reference import branches
from aftersales.service import BaseService, Store, json_api, read_json

from .adapters.repository import FeedbackUnitOfWork
from .domain.model import DEFAULT_VALID_DAYS
from .service_layer import handlers

class FeedbackService(BaseService):
    name = "feedback"
    store = Store(Path(__file__).parent / "migrations", FeedbackUnitOfWork)

    def _branches(self) -> dict:
        b = branches(self.store.config.get("reference_dir"))
        for code in b:
            metrics.csat_score.labels(code)
        return b

    def _valid_days(self) -> float:
        """Survey validity in days (``FEEDBACK_SURVEY_VALID_DAYS``, see aftersales/config.py)."""
        return float(self.store.config.get("survey_valid_days", DEFAULT_VALID_DAYS))

    @consume_events("aftersales.feedback.events")
    def on_job_completed(self, envelope):
        handlers.issue_for_job(self.store.uow(), envelope, self._branches(), self._valid_days())

    @http("GET", "/api/v1/surveys/<string:token>")
    @json_api("/api/v1/surveys/{token}")
    def get_survey(self, request, token):
        return 200, handlers.customer_view(self.store.uow(), token)

    @http("POST", "/api/v1/surveys/<string:token>")
    @json_api("/api/v1/surveys/{token}")
    def post_survey(self, request, token):
        body = read_json(request)
        survey = handlers.answer_survey(self.store.uow(), token, body)
        self._branches()
        metrics.csat_score.labels(survey.branch).observe(survey.answer.scores["overall"])
        return 200, {"survey_id": survey.survey_id, "ticket_no": survey.ticket_no,
                     "status": "answered", "answered_at": survey.answered_at.isoformat(),
                     "message": "感谢您的评价！"}

    @http("GET", "/api/v1/surveys")
    @json_api("/api/v1/surveys")
    def list_surveys(self, request):
        principal = self.store.principal(request)
        return 200, handlers.staff_view(self.store.uow(), principal, request.args.get("ticket_no"))
