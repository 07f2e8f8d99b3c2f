"""The SLA timer's duties beside the clocks (``sla.raise_due``): acceptance timeouts (an
assigned job not accepted in time is declined on the engineer's behalf and reassigned),
missing daily progress reports (a reminder, once per interval) and forgetting the early events
of tickets that never got a job. Each job is handled in a savepoint and written with a
compare-and-set, so a step an engineer committed meanwhile wins."""
from __future__ import annotations

from datetime import timedelta

from aftersales.contracts.envelope import utcnow

from ..domain import model
from . import commands
from .assigning import lock_roster, reassign
from .jobs import publish

EARLY_EVENTS_KEPT_DAYS = 30   # events of tickets that never got a job are forgotten after this


def time_out_acceptances(uow, cmd: commands.TimeOutAcceptances, policies, settings: dict) -> int:
    """Returns the number of jobs reassigned."""
    now = cmd.now or utcnow()
    timeout = timedelta(minutes=float(settings.get("accept_timeout_minutes", 30)))
    n = 0
    late = sorted(uow.jobs.awaiting_acceptance(now - timeout), key=lambda j: j.branch)
    for job in late:      # branch by branch: roster, then job (the lock order)
        savepoint = uow.session.begin_nested()
        lock_roster(uow, job.branch)
        job = uow.jobs.get(job.ticket_no, lock=True)
        if job.status != model.ASSIGNED or job.assigned_at > now - timeout:
            savepoint.rollback()      # accepted or reassigned meanwhile
            continue
        eng = job.engineer_id
        job.decline(eng)
        publish(uow, job, "job_declined", {"engineer_id": eng, "declined_at": now,
                                           "reason": f"{int(timeout.total_seconds() // 60)} 分钟内未接单",
                                           "timed_out": True})
        reassign(uow, policies, job, now, f"{eng} 超时未接单")
        if not uow.jobs.save(job, expect=(model.ASSIGNED, eng)):
            savepoint.rollback()      # accepted (or reassigned) meanwhile: nothing to do
            continue
        savepoint.commit()
        n += 1
    return n


def remind_missing_reports(uow, cmd: commands.RemindMissingReports, settings: dict) -> int:
    """Jobs on site without a report (nor a reminder) for ``report_interval_hours``: the rule
    is :meth:`JobRepository.reports_due`. Returns the number reminded."""
    now = cmd.now or utcnow()
    interval = float(settings.get("report_interval_hours", 24)) * 3600
    n = 0
    for job in uow.jobs.reports_due(now - timedelta(seconds=interval)):
        savepoint = uow.session.begin_nested()
        publish(uow, job, "progress_report_missing", {
            "engineer_id": job.engineer_id, "last_report_at": job.last_report_at,
            "reminded_at": now})
        if not uow.jobs.mark_reminded(job, now):
            savepoint.rollback()
            continue
        savepoint.commit()
        n += 1
    return n


def forget_early_events(uow, cmd: commands.ForgetEarlyEvents) -> int:
    now = cmd.now or utcnow()
    return uow.jobs.purge_early(now - timedelta(days=EARLY_EVENTS_KEPT_DAYS))
