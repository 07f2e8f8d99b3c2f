"""The events feedback consumes (intake's, dispatch's, parts'): its copy of each ticket's
customer and closed job, the survey and return visits a closed job starts, complaints from
complaint tickets, and the statistics' facts. The bus runs each once per event id."""
from __future__ import annotations

import logging
from collections import Counter

from aftersales.contracts.envelope import Envelope, utcnow
from aftersales.contracts.events import (JobClosedV1, JobDiagnosedV1, PartsConsumedV1,
                                         SlaStageCompletedV1, TicketOpenedV1)
from aftersales.errors import PermanentError
from aftersales.logs import mask_name, mask_phone

from ..domain import complaints as cp
from ..domain import model
from ..domain import visits as rv
from .common import Outcome, Settings
from .complaints import publish_registered

log = logging.getLogger(__name__)


def _known_branch(env: Envelope, settings: Settings) -> None:
    if env.branch not in settings.branches:
        raise PermanentError(f"{env.type} for {env.ticket_no} names no known branch ({env.branch!r})")


def on_ticket_opened(uow, env: Envelope, settings: Settings) -> Outcome:
    _known_branch(env, settings)
    t = TicketOpenedV1.model_validate(env.data)
    if t.duplicate:
        return Outcome()
    uow.closed_jobs.upsert(t.ticket_no, env.branch, category=t.category, priority=t.priority,
                           customer=t.customer.model_dump(mode="json", exclude_none=True),
                           site=t.site.model_dump(mode="json", exclude_none=True),
                           asset=t.asset.model_dump(mode="json", exclude_none=True))
    if t.category != "complaint":
        return Outcome()
    if uow.complaints.list(None, None, ticket_no=t.ticket_no):
        return Outcome()       # re-sent (split) ticket: the complaint exists
    c = cp.register(t.ticket_no, env.branch, "intake", cp.SEVERITY_BY_PRIORITY[t.priority],
                    t.fault.description, utcnow())
    uow.complaints.add(c, str(env.event_id))
    publish_registered(uow, c)
    log.info("complaint %s registered from %s (customer %s, %s)", c.complaint_id, t.ticket_no,
             mask_name(t.customer.contact_name), mask_phone(t.customer.phone))
    return Outcome(complaints=[(c.branch, c.severity)])


def on_job_closed(uow, env: Envelope, settings: Settings) -> Outcome:
    _known_branch(env, settings)
    now = utcnow()
    j = JobClosedV1.model_validate(env.data)
    uow.closed_jobs.upsert(j.ticket_no, env.branch, category=j.category, priority=j.priority,
                           engineer_id=j.engineer_id, completed_at=j.completed_at,
                           closed_at=j.closed_at, first_time_fix=j.first_time_fix,
                           rework_count=j.rework_count)
    job = uow.closed_jobs.get(j.ticket_no)
    if not uow.surveys.for_ticket(j.ticket_no):
        survey = model.issue_survey(j.ticket_no, env.branch, j.engineer_id, now,
                                    settings.valid_days)
        uow.surveys.add(survey, survey.next_due_at(settings.reminder_days), str(env.event_id))
        uow.publish("survey_issued", {"ticket_no": survey.ticket_no, "survey_id": survey.survey_id,
                                      "expires_at": survey.expires_at.isoformat()},
                    ticket_no=survey.ticket_no, branch=survey.branch)
    added = uow.visits.add_new(rv.after_completion(job, settings.visit_months,
                                                   settings.tz(job.branch)))
    log.info("%s closed: survey issued, %d return visit(s) scheduled", j.ticket_no, len(added))
    return Outcome()


def on_job_diagnosed(uow, env: Envelope, settings: Settings) -> Outcome:
    _known_branch(env, settings)
    d = JobDiagnosedV1.model_validate(env.data)
    uow.facts.add_diagnosis(str(env.event_id), d.ticket_no, env.branch, d.engineer_id, d.cause,
                            d.responsibility, d.diagnosed_at)
    return Outcome()


def on_sla_stage_completed(uow, env: Envelope, settings: Settings) -> Outcome:
    _known_branch(env, settings)
    s = SlaStageCompletedV1.model_validate(env.data)
    uow.facts.add_sla(str(env.event_id), s.ticket_no, env.branch, s.stage, s.priority, s.met,
                      s.completed_at)
    return Outcome()


def on_parts_consumed(uow, env: Envelope, settings: Settings) -> Outcome:
    _known_branch(env, settings)
    p = PartsConsumedV1.model_validate(env.data)
    quantities = Counter()
    for line in p.lines:
        quantities[line.sku] += line.quantity
    uow.facts.add_parts(str(env.event_id), p.ticket_no, env.branch, dict(quantities),
                        env.occurred_at)
    return Outcome()
