"""The scheduler's pass (the service's timer): survey reminders and expiry, overdue
complaints' escalation, seasonal and annual visit plans. :func:`run` lists the work, each in
a read of its own, and hands each item to the bus as a command: one unit of work per item,
as before. Idempotent: a second pass at the same time does nothing.

Several instances on one PostgreSQL database run their schedulers at once: each unit of work
first claims its row (the survey, complaint or plan) ``FOR UPDATE SKIP LOCKED`` and checks it
is still due, so a row another scheduler is working on is skipped, not waited for, and one
it has done is due no more: each reminder, expiry, escalation and plan run happens once
(``tests/test_two_schedulers.py``). The lists are not locked: their read ends before the
work starts, so two schedulers list the same rows and share them out by those claims."""
from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aftersales.contracts.envelope import utcnow

from ..domain import complaints as cp
from ..domain import model
from . import commands
from .common import DEFAULT_TZ, Settings
from .visits import schedule

log = logging.getLogger(__name__)


def run(bus, now: datetime | None = None) -> dict:
    """One pass at ``now``; what it did, by kind (``{"surveys_reminded": 1, ...}``)."""
    now = now or utcnow()
    settings: Settings = bus.dependencies["settings"]
    done = Counter()
    with bus.uow() as uow:
        due = uow.surveys.due(now)
    for s in due:
        action = s.due_action(now, settings.reminder_days)
        if action is None:
            continue
        kind, n = action
        if kind == model.EXPIRE:
            done["surveys_expired"] += bus.handle(commands.ExpireSurvey(s, now=now))
        else:
            done["surveys_reminded"] += bus.handle(commands.RemindSurvey(s, n, now=now))
    with bus.uow() as uow:
        overdue = uow.complaints.overdue(now, cp.MAX_LEVEL)
    for complaint_id in overdue:
        done["complaints_escalated"] += bus.handle(commands.EscalateComplaint(complaint_id,
                                                                         now=now))
    with bus.uow() as uow:
        plans = [p for p in uow.plans.all() if p.active]
    for plan in plans:
        year = now.astimezone(ZoneInfo(DEFAULT_TZ)).year
        if now < plan.date_in(year) - timedelta(days=settings.plan_lead_days):
            continue
        done["plan_visits"] += bus.handle(commands.RunVisitPlan(plan, year, now=now))
    return {kind: n for kind, n in done.items() if n}


def _claimed(uow, survey: model.Survey, now: datetime, action: tuple, settings: Settings):
    """The survey, locked, if ``action`` is still what is due for it at ``now``: None when
    another scheduler holds it (PostgreSQL, SKIP LOCKED) or did it already."""
    s = uow.surveys.claim(survey.survey_id, now)
    return s if s is not None and s.due_action(now, settings.reminder_days) == action else None


def expire_survey(uow, cmd: commands.ExpireSurvey, settings: Settings) -> int:
    now = cmd.now
    s = _claimed(uow, cmd.survey, now, (model.EXPIRE, 0), settings)
    if s is None or not uow.surveys.mark_expired(s.survey_id, now):
        return 0
    uow.publish("survey_expired", {"ticket_no": s.ticket_no, "survey_id": s.survey_id,
                                   "expired_at": now.isoformat()},
                ticket_no=s.ticket_no, branch=s.branch)
    return 1


def remind_survey(uow, cmd: commands.RemindSurvey, settings: Settings) -> int:
    n = cmd.reminder_no
    s = _claimed(uow, cmd.survey, cmd.now, (model.REMIND, n), settings)
    if s is None:
        return 0
    after = dataclasses.replace(s, reminders_sent=n)
    if not uow.surveys.mark_reminded(s.survey_id, n, after.next_due_at(settings.reminder_days)):
        return 0
    uow.publish("survey_reminded", {"ticket_no": s.ticket_no, "survey_id": s.survey_id,
                                    "reminder_no": n, "expires_at": s.expires_at.isoformat()},
                ticket_no=s.ticket_no, branch=s.branch)
    return 1


def escalate_complaint(uow, cmd: commands.EscalateComplaint) -> int:
    now = cmd.now
    c = uow.complaints.claim(cmd.complaint_id)
    if c is None or not c.due_escalation(now):
        return 0
    level, to = c.escalate(now)
    uow.complaints.save(c)
    uow.publish("complaint_escalated", {
        "ticket_no": c.ticket_no, "complaint_id": c.complaint_id, "severity": c.severity,
        "level": level, "escalated_to": to, "escalated_at": now.isoformat(),
        "next_deadline": c.deadline.isoformat()}, ticket_no=c.ticket_no, branch=c.branch)
    log.warning("complaint %s (%s) overdue: escalated to %s", c.complaint_id, c.ticket_no, to)
    return 1


def run_plan(uow, cmd: commands.RunVisitPlan) -> int:
    """A plan's visits for the year, unless this year's run happened already or another
    scheduler is running the plan now (its row locked)."""
    if not uow.plans.claim(cmd.plan.plan_id) or uow.plans.ran(cmd.plan.plan_id, cmd.year):
        return 0
    return schedule(uow, cmd.plan, cmd.year, cmd.now)
