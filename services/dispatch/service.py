"""The dispatch nameko service: entrypoints only. A consumed event goes to the bus
(``bus.handle_event``); an HTTP request becomes a command (``bus.handle``) or reads a view;
the SLA timer's duties are commands too (see ``bootstrap.py``)."""
from __future__ import annotations

import logging
from pathlib import Path

from nameko.extensions import DependencyProvider
from werkzeug.wrappers import Response

from aftersales import metrics
from aftersales.messaging.entrypoint import consume_events
from aftersales.openapi import documented
from aftersales.reference import branches
from aftersales.service import BaseService, Bus, Store, json_api, read_json
from aftersales.timer import configured_timer
from aftersales.web import http

from . import bootstrap
from . import bodies as b
from . import responses as r
from .adapters.evidence import CONTENT_TYPES, EvidenceRejected, evidence_for
from .adapters.repository import DispatchUnitOfWork
from .service_layer import commands, evidence, views
from .uploads import read_upload
from .service_layer.gauges import gauges

log = logging.getLogger(__name__)


class SlaSeries(DependencyProvider):
    """Every SLA counter and histogram series (stage × priority × branch) at zero as the
    service starts, so ``rate()`` works from the first scrape."""

    def setup(self):
        metrics.init_sla_series(branches(self.container.config.get("AFTERSALES", {})
                                         .get("reference_dir")))


def _body(request) -> dict:
    """The JSON object sent, or ``{}`` when nothing was sent (accept and check-in)."""
    return read_json(request) if request.get_data() else {}


IMAGES = {t: {"schema": {"type": "string", "format": "binary"}} for t in CONTENT_TYPES}
EVIDENCE_ROUTE = "/api/v1/jobs/{ticket_no}/evidence/{sha256}"


TIMER_DUTIES = (commands.TimeOutAcceptances, commands.RemindMissingReports,
                commands.ForgetEarlyEvents)


class DispatchService(BaseService):
    name = "dispatch"
    store = Store(Path(__file__).parent / "migrations", DispatchUnitOfWork, gauges=gauges)
    bus = Bus(bootstrap.build)
    sla_series = SlaSeries()

    # -- messages and the clock -----------------------------------------------------------
    @consume_events("aftersales.dispatch.events", batch=16)
    def on_event(self, envelopes):
        self.bus.handle_events(envelopes)

    @configured_timer("sla_timer_interval", 1.0)
    def sla_timer(self):
        """Raise due SLA at-risk and breaches (from the database: a restart misses none),
        reassign jobs not accepted in time, remind missing progress reports."""
        try:
            scan = commands.RaiseDueSla()
            while self.bus.handle(scan) >= scan.limit:
                pass            # a backlog (after downtime): drain it in batches
            for duty in TIMER_DUTIES:
                self.bus.handle(duty())
        except Exception:
            log.exception("SLA timer tick failed; the next tick retries")

    # -- the job -------------------------------------------------------------------------
    def _command(self, request, command, ticket_no: str):
        principal = self.store.principal(request)
        try:
            return 200, self.bus.handle(command(principal, ticket_no, _body(request)))
        except EvidenceRejected as exc:        # a signature that is no image, or too large
            return exc.status, exc.as_doc()

    def _view(self, request, view, *args):
        principal = self.store.principal(request)
        return 200, view(self.store.uow(), principal, *args)

    @http("POST", "/api/v1/jobs/<string:ticket_no>/accept")
    @json_api("/api/v1/jobs/{ticket_no}/accept", response=r.JobView, errors=(409,))
    def accept_job(self, request, ticket_no):
        """The assigned engineer accepts the job (the dispatch SLA stage completes)."""
        return self._command(request, commands.AcceptJob, ticket_no)

    @http("POST", "/api/v1/jobs/<string:ticket_no>/decline")
    @json_api("/api/v1/jobs/{ticket_no}/decline", body=b.DeclineBody,
              response=r.JobView, errors=(409,))
    def decline_job(self, request, ticket_no):
        """The assigned engineer declines: the job goes to the next best-ranked engineer."""
        return self._command(request, commands.DeclineJob, ticket_no)

    @http("POST", "/api/v1/jobs/<string:ticket_no>/appointment")
    @json_api("/api/v1/jobs/{ticket_no}/appointment", body=b.ScheduleBody,
              response=r.JobView, errors=(409,))
    def set_appointment(self, request, ticket_no):
        """Agree the visit's time window with the customer (the response stage completes)."""
        return self._command(request, commands.SetAppointment, ticket_no)

    @http("POST", "/api/v1/jobs/<string:ticket_no>/en-route")
    @json_api("/api/v1/jobs/{ticket_no}/en-route", body=b.DepartBody,
              response=r.JobView, errors=(409,))
    def en_route(self, request, ticket_no):
        """The engineer sets out for the site."""
        return self._command(request, commands.SetOut, ticket_no)

    @http("POST", "/api/v1/jobs/<string:ticket_no>/check-in")
    @json_api("/api/v1/jobs/{ticket_no}/check-in", response=r.JobView, errors=(409,))
    def check_in(self, request, ticket_no):
        """The engineer checks in on site (the first visit completes the arrival stage)."""
        return self._command(request, commands.CheckIn, ticket_no)

    @http("POST", "/api/v1/jobs/<string:ticket_no>/diagnosis")
    @json_api("/api/v1/jobs/{ticket_no}/diagnosis", body=b.DiagnoseBody,
              response=r.JobView, errors=(409,))
    def diagnose(self, request, ticket_no):
        """Record the diagnosis: cause, responsibility, a void warranty."""
        return self._command(request, commands.Diagnose, ticket_no)

    @http("POST", "/api/v1/jobs/<string:ticket_no>/quote")
    @json_api("/api/v1/jobs/{ticket_no}/quote", body=b.QuoteBody,
              response=r.JobView, errors=(409,))
    def quote(self, request, ticket_no):
        """Quote paid work (materials entered, or priced from the approved parts requests)."""
        return self._command(request, commands.IssueQuote, ticket_no)

    @http("POST", "/api/v1/jobs/<string:ticket_no>/quote/decision")
    @json_api("/api/v1/jobs/{ticket_no}/quote/decision", body=b.QuoteDecisionBody,
              response=r.JobView, errors=(409,))
    def quote_decision(self, request, ticket_no):
        """Record the customer's decision on the quote."""
        return self._command(request, commands.DecideQuote, ticket_no)

    @http("POST", "/api/v1/jobs/<string:ticket_no>/parts-requests")
    @json_api("/api/v1/jobs/{ticket_no}/parts-requests", body=b.PartsBody,
              response=r.JobView, errors=(409,))
    def request_parts(self, request, ticket_no):
        """Ask the parts service for parts for the job."""
        return self._command(request, commands.RequestParts, ticket_no)

    @http("POST", "/api/v1/jobs/<string:ticket_no>/reports")
    @json_api("/api/v1/jobs/{ticket_no}/reports", body=b.ReportBody,
              response=r.JobView, errors=(409,))
    def progress_report(self, request, ticket_no):
        """A progress report from site (due daily while the engineer works on site)."""
        return self._command(request, commands.ReportProgress, ticket_no)

    @http("POST", "/api/v1/jobs/<string:ticket_no>/complete")
    @json_api("/api/v1/jobs/{ticket_no}/complete", body=b.CompleteBody,
              response=r.JobView, errors=(409,))
    def complete_job(self, request, ticket_no):
        """The engineer completes the work, with the parts fitted."""
        return self._command(request, commands.CompleteJob, ticket_no)

    @http("POST", "/api/v1/jobs/<string:ticket_no>/sign-off")
    @json_api("/api/v1/jobs/{ticket_no}/sign-off", body=b.SignOffBody,
              response=r.JobView, errors=(409,))
    def sign_off(self, request, ticket_no):
        """Record the customer's sign-off: accepted closes the job, rejected sends it to rework."""
        return self._command(request, commands.SignOff, ticket_no)

    @http("POST", "/api/v1/jobs/<string:ticket_no>/assign")
    @json_api("/api/v1/jobs/{ticket_no}/assign", body=b.AssignBody,
              response=r.JobView, errors=(409,))
    def assign(self, request, ticket_no):
        """Assign or reassign the job by hand, with a reason."""
        return self._command(request, commands.AssignJob, ticket_no)

    @http("POST", "/api/v1/jobs/<string:ticket_no>/waiting-on-customer")
    @json_api("/api/v1/jobs/{ticket_no}/waiting-on-customer", body=b.WaitBody,
              response=r.SlaView, errors=(409,))
    def pause(self, request, ticket_no):
        """The ticket waits on the customer: its SLA clocks pause."""
        return self._command(request, commands.WaitOnCustomer, ticket_no)

    @http("POST", "/api/v1/jobs/<string:ticket_no>/resume")
    @json_api("/api/v1/jobs/{ticket_no}/resume", response=r.SlaView, errors=(409,))
    def resume(self, request, ticket_no):
        """The ticket no longer waits on the customer: its SLA clocks run again."""
        principal = self.store.principal(request)
        return 200, self.bus.handle(commands.Resume(principal, ticket_no))

    # -- the job's evidence (service_layer/evidence.py, docs/dispatch.md#evidence) --------------
    @http("POST", "/api/v1/jobs/<string:ticket_no>/photos")
    @json_api("/api/v1/jobs/{ticket_no}/photos", response=r.EvidenceView, status=201,
              also=(200,), errors=(400, 409, 413, 422))
    def upload_photo(self, request, ticket_no):
        """Add a photo to the job (JPEG, PNG or WebP by content; the size limit is
        DISPATCH_EVIDENCE_MAX_BYTES, 8 MiB by default).

        The body is the image itself (caption and taken_at in the query string), or a
        multipart/form-data form with the file field `photo` and the fields caption and
        taken_at. 201: stored; 200: the job has these bytes already."""
        principal = self.store.principal(request)
        try:
            data, meta = read_upload(request, "photo", evidence_for(self.store.config).limit)
            return self.bus.handle(commands.UploadPhoto(principal, ticket_no, data, meta))
        except EvidenceRejected as exc:
            return exc.status, exc.as_doc()

    @http("GET", "/api/v1/jobs/<string:ticket_no>/evidence")
    @json_api("/api/v1/jobs/{ticket_no}/evidence", response=r.EvidenceList)
    def list_evidence(self, request, ticket_no):
        """The job's photos and signatures (references: download each by its sha256)."""
        return self._view(request, evidence.list_evidence, ticket_no)

    @http("GET", "/api/v1/jobs/<string:ticket_no>/evidence/<string:sha256>")
    @documented(route=EVIDENCE_ROUTE, media=IMAGES)
    def get_evidence(self, request, ticket_no, sha256):
        """One image of the job: its bytes, with their content type.

        Cache-Control: private (immutable: the id is the hash of the bytes); the ETag is the
        sha256, and a request with that If-None-Match answers 304 without a body."""
        found = {}

        @json_api(EVIDENCE_ROUTE)
        def read(svc, req):
            found["row"], found["data"] = evidence.read_evidence(
                svc.store.uow(), evidence_for(svc.store.config), svc.store.principal(req),
                ticket_no, sha256)
            return 200, {}

        answer = read(self, request)
        if answer.status_code != 200:
            return answer
        row = found["row"]
        headers = {"Cache-Control": "private, max-age=31536000, immutable",
                   "ETag": f'"{row["sha256"]}"', "X-Content-Type-Options": "nosniff",
                   "Content-Disposition": f'inline; filename="{row["kind"]}-{row["sha256"][:16]}"'}
        if row["sha256"] in request.if_none_match:
            return Response(status=304, headers=headers)
        return Response(found["data"], status=200, content_type=row["content_type"],
                        headers=headers)

    @http("GET", "/api/v1/jobs/<string:ticket_no>/sla")
    @json_api("/api/v1/jobs/{ticket_no}/sla", response=r.SlaView)
    def get_sla(self, request, ticket_no):
        """The job's SLA clocks, pauses and deadline history."""
        return self._view(request, views.get_sla, ticket_no)

    @http("GET", "/api/v1/jobs/<string:ticket_no>")
    @json_api("/api/v1/jobs/{ticket_no}", response=r.JobDetail)
    def get_job(self, request, ticket_no):
        """The job with its assignment history, SLA clocks and progress reports."""
        return self._view(request, views.get_job, ticket_no)

    @http("GET", "/api/v1/jobs")
    @json_api("/api/v1/jobs", query=b.JobsQuery, response=r.JobList)
    def list_jobs(self, request):
        """Jobs of the key's branch (HQ: all, or one branch), oldest received first."""
        return self._view(request, views.list_jobs, request.args)

    @http("GET", "/api/v1/board")
    @json_api("/api/v1/board", query=b.BranchQuery, response=r.Board)
    def board(self, request):
        """The dispatchers' board: open jobs, who is where, what is at risk or overdue."""
        return self._view(request, views.board, request.args)

    # -- the roster ------------------------------------------------------------------------
    @http("GET", "/api/v1/engineers")
    @json_api("/api/v1/engineers", query=b.BranchQuery, response=r.Roster)
    def list_engineers(self, request):
        """The branch's roster (HQ: everyone, or one branch) with open jobs."""
        return self._view(request, views.list_engineers, request.args)

    @http("PUT", "/api/v1/engineers/<string:engineer_id>")
    @json_api("/api/v1/engineers/{engineer_id}", body=b.EngineerBody, response=r.RosterEntry,
              also=(201,))
    def put_engineer(self, request, engineer_id):
        """Add (201) or replace (200) a roster entry."""
        principal = self.store.principal(request)
        return self.bus.handle(commands.PutEngineer(principal, engineer_id, read_json(request)))

    @http("POST", "/api/v1/engineers/<string:engineer_id>/leave")
    @json_api("/api/v1/engineers/{engineer_id}/leave", body=b.LeaveBody,
              response=r.RosterEntry)
    def add_leave(self, request, engineer_id):
        """Record whole days of leave for a person on the roster."""
        principal = self.store.principal(request)
        return 200, self.bus.handle(commands.AddLeave(principal, engineer_id, read_json(request)))
