"""Return visits (their outcome; a problem found opens a new request with intake) and the
visit plans that schedule them (HQ's managers only)."""
from __future__ import annotations

import logging
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from aftersales.auth import Forbidden, Principal
from aftersales.contracts.envelope import utcnow
from aftersales.contracts.topology import PHONE_CENTER_EXCHANGE, REPAIR_REQUESTED
from aftersales.errors import Conflict, InvalidInput, NotFound
from aftersales.logs import mask_name

from ..domain import visits as rv
from . import commands
from .common import DEFAULT_TZ, STAFF_ROLES, visible
from .views import plan_doc, visit_doc

log = logging.getLogger(__name__)


def record_outcome(uow, cmd: commands.RecordVisitOutcome) -> dict:
    """The outcome of a return visit. ``problem_found`` opens a new request through the
    intake contract (``repair_requested`` on ``phone_center.events``, source
    ``return_visit``, request id unique per visit) in the same transaction (outbox).
    A visit recorded already is rv.VisitError (a 409)."""
    principal = cmd.principal
    principal.require_role(*STAFF_ROLES)
    now = cmd.now or utcnow()
    problem = cmd.problem
    if cmd.outcome == "problem_found" and not (problem or "").strip():
        raise InvalidInput([{"field": "problem", "message": "is required when a problem was found"}])
    v = visible(principal, uow.visits.get(cmd.visit_id), "return visit")
    v.record(cmd.outcome, principal.actor, now, cmd.notes)
    if cmd.outcome == "problem_found":
        job = uow.closed_jobs.get(v.ticket_no)
        if job is None or not job.customer or not job.site:
            raise Conflict(f"feedback has no customer and site for {v.ticket_no}: "
                           "file the request with intake directly")
        problem = problem.strip()
        limit = rv.problem_limit(v, job.ticket_no)
        if len(problem) > limit:   # the request's description would be too long (was a 500)
            raise InvalidInput([{"field": "problem", "message": f"is longer than {limit} "
                                 "characters (the new request's description holds "
                                 f"{rv.FAULT_MAX} with the visit's reference)"}])
        body = rv.repair_request(v, job, problem, now, cmd.category, cmd.priority)
        uow.publish_message(PHONE_CENTER_EXCHANGE, REPAIR_REQUESTED, body,
                            message_id=_message_id(v.request_id))
        log.info("return visit %s found a problem: request %s filed for %s (customer %s)",
                 v.visit_id, v.request_id, v.ticket_no,
                 mask_name((job.customer or {}).get("contact_name")))
    if not uow.visits.save(v):
        raise Conflict("this visit's outcome was recorded already")
    uow.publish("return_visit_completed", {
        "ticket_no": v.ticket_no, "visit_id": v.visit_id, "kind": v.kind,
        "plan_id": v.plan_id, "outcome": v.outcome, "completed_at": now.isoformat(),
        "by": v.completed_by, "request_id": v.request_id},
        ticket_no=v.ticket_no, branch=v.branch)
    return visit_doc(v, now)


def _message_id(request_id: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"aftersales:return_visit:{request_id}"))


# -- visit plans --------------------------------------------------------------------------------
def _require_hq_manager(principal: Principal) -> None:
    """Visit plans span every branch: managed (and run) by HQ's managers only."""
    principal.require_role("manager")
    if not principal.is_hq:
        raise Forbidden("visit plans are managed by HQ: a branch key may not change or run them")


def put_plan(uow, cmd: commands.PutVisitPlan) -> dict:
    _require_hq_manager(cmd.principal)
    errors = rv.plan_errors(cmd.definition)
    if len(cmd.plan_id) > rv.PLAN_ID_MAX:   # the column's width (PostgreSQL refused it: a 500)
        errors.insert(0, {"field": "plan_id",
                          "message": f"is longer than {rv.PLAN_ID_MAX} characters"})
    if errors:
        raise InvalidInput(errors)
    uow.plans.put(cmd.plan_id, cmd.definition, cmd.now or utcnow())
    return plan_doc(uow.plans.get(cmd.plan_id))


def schedule(uow, plan: rv.Plan, year: int, now: datetime) -> int:
    """Schedule ``plan``'s visits of ``year`` (projects closed in the five years before) and
    record the run; the number of visits added."""
    start = datetime(year - 5, 1, 1, tzinfo=ZoneInfo(DEFAULT_TZ))
    jobs = uow.closed_jobs.closed_between(None, start, plan.date_in(year))
    added = uow.visits.add_new(rv.plan_visits(plan, year, jobs))
    uow.plans.record_run(plan.plan_id, year, len(added), now)
    log.info("plan %s %d: %d visit(s) scheduled", plan.plan_id, year, len(added))
    return len(added)


def generate_plan(uow, cmd: commands.GenerateVisitPlan) -> dict:
    """Schedule a plan's visits for a year now (again: only new projects are added)."""
    _require_hq_manager(cmd.principal)
    plan = uow.plans.get(cmd.plan_id)
    if plan is None:
        raise NotFound("no such plan")
    n = schedule(uow, plan, cmd.year, cmd.now or utcnow())
    return {"plan_id": cmd.plan_id, "year": cmd.year, "scheduled": n}
