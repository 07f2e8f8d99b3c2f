"""Choosing an engineer for a job and publishing the decision: shared by the opening of a job
(``opening.py``) and every reassignment (a decline in ``jobs.py``, an acceptance timeout in
``timeouts.py``, the dispatcher's manual assignment here).

Lock order (every use case that locks more than one of these takes them in this order, so two
transactions never wait on each other in a circle on PostgreSQL): the branch's **roster**
rows, then the **job** row, then the job's **SLA clock** rows. ``decide`` takes the roster
lock; a caller that also locks the job must have taken the roster lock first
(``lock_roster``)."""
from __future__ import annotations

import logging
from datetime import datetime

from aftersales.contracts.envelope import utcnow
from aftersales.errors import Conflict, InvalidInput

from .. import bodies
from ..domain import model, roster
from . import commands
from .views import job_view, visible_job

log = logging.getLogger(__name__)
ASSIGN_ROLES = ("dispatcher", "manager")


def lock_roster(uow, branch: str | None) -> None:
    """Take the branch's roster lock (first in the lock order): serialises every assignment,
    opening and ending of a job in the branch."""
    if branch:
        uow.engineers.of_branch(branch, lock=True)


def lock_rosters_of_batch(uow, envs) -> None:
    """Before a batch of events: the roster lock of every branch they name, in branch order.
    Taken one event at a time instead, two batches holding SH and HZ would each wait for the
    other's (a deadlock on PostgreSQL: the batch fails after ``deadlock_timeout`` and every
    message runs again alone). The rosters read here are kept by the unit of work."""
    for branch in sorted({env.branch for env in envs if env.branch}):
        lock_roster(uow, branch)


def lock_branch_of(uow, ticket_no: str) -> None:
    """Before locking a job that may be reassigned: its branch's roster lock (the lock order:
    roster, then job, then clocks)."""
    job = uow.jobs.get(ticket_no)
    if job is not None:
        lock_roster(uow, job.branch)


def _neighbours(uow, policies, branch: str):
    people, workload = [], {}
    for code in policies.neighbours(branch):
        people.extend(uow.engineers.of_branch(code))
        workload.update(uow.jobs.workload(code))
    return people, workload


def decide(uow, policies, branch: str, priority: str, needs: roster.Needs, site: str,
           now: datetime, exclude=()) -> roster.Assignment:
    """The branch's roster (locked) and workload are read once per unit of work (the roster
    lock keeps other assignments in the branch out meanwhile); the neighbouring branches' only
    when nobody of the branch can take the job (their engineers are offered only then)."""
    people = uow.engineers.of_branch(branch, lock=True)   # serialises the branch
    load = uow.jobs.workload(branch, keep=True)
    decision = roster.assign(people, load, needs, now=now, priority=priority, site=site,
                             exclude=exclude)
    if decision.assigned or not policies.neighbours(branch):
        return decision
    near, near_load = _neighbours(uow, policies, branch)
    return roster.assign(people, load, needs, now=now, priority=priority, site=site,
                         exclude=exclude, neighbours=near, neighbour_workload=near_load)


def publish_decision(uow, job: model.Job, decision: roster.Assignment, previous: str | None = None,
                     manual: bool = False) -> None:
    if decision.engineer:
        uow.publish("engineer_assigned", {
            "ticket_no": job.ticket_no, "engineer_id": decision.engineer.engineer_id,
            "engineer_name": decision.engineer.name, "reason": decision.reason,
            "previous_engineer_id": previous, "manual": manual},
            ticket_no=job.ticket_no, branch=job.branch)
    else:
        uow.publish("assignment_failed", {
            "ticket_no": job.ticket_no, "reason": decision.reason,
            "escalated_to": decision.escalated_to,
            "offered": [c.engineer_id for c in decision.offered]},
            ticket_no=job.ticket_no, branch=job.branch)


def reassign(uow, policies, job: model.Job, now: datetime, why: str,
             engineer: roster.Engineer | None = None) -> str | None:
    """Give the job to ``engineer`` (manual) or to the best-ranked one who has not declined
    it; escalate when nobody can take it. The assignment history keeps every decision."""
    previous = job.engineer_id
    if engineer is not None:
        decision = roster.manual_assignment(engineer, uow.jobs.workload(engineer.branch)
                                            .get(engineer.engineer_id, 0), f"人工派工：{why}")
    else:
        exclude = set(job.declined_by) | ({previous} if previous else set())
        auto = decide(uow, policies, job.branch, job.priority, job.needs,
                      job.zone_hint or "", now, exclude=exclude)
        decision = roster.Assignment(auto.engineer, auto.escalated_to, f"{why}；{auto.reason}",
                                     auto.ranking, auto.offered)
    job.reassign(decision, now)
    uow.jobs.add_assignment(job.ticket_no, decision, now)
    publish_decision(uow, job, decision, previous=previous, manual=engineer is not None)
    return decision.engineer.engineer_id if decision.engineer else None


def assign(uow, cmd: commands.AssignJob, policies) -> dict:
    """Manual assignment or reassignment with a reason: to ``engineer_id`` (of the job's branch
    or a neighbouring branch; HQ may pick anyone), or without one to the next best-ranked."""
    principal, ticket_no = cmd.principal, cmd.ticket_no
    principal.require_role(*ASSIGN_ROLES)
    data = bodies.validate(bodies.AssignBody, cmd.body)
    now = utcnow()
    lock_branch_of(uow, ticket_no)
    job = visible_job(uow, principal, ticket_no, lock=True)
    engineer = None
    if data.engineer_id:
        engineer = uow.engineers.get(data.engineer_id)
        if engineer is None or engineer.role != roster.ENGINEER or not engineer.active:
            raise InvalidInput([{"field": "engineer_id",
                                 "message": f"no active engineer {data.engineer_id}"}])
        allowed = {job.branch, *policies.neighbours(job.branch)}
        if engineer.branch not in allowed and not principal.is_hq:
            raise InvalidInput([{"field": "engineer_id", "message":
                                 f"{data.engineer_id} is in {engineer.branch}, neither this "
                                 f"branch nor a neighbour (HQ may assign across)"}])
        if engineer.engineer_id == job.engineer_id:
            raise Conflict(f"{ticket_no} is already assigned to {engineer.engineer_id}")
    reassign(uow, policies, job, now, data.reason, engineer)   # InvalidTransition: 409
    uow.jobs.save(job)
    history = uow.jobs.assignments(ticket_no)
    log.info("%s: reassigned by %s to %s", ticket_no, principal.actor, job.engineer_id or
             job.escalated_to)
    return job_view(job, history)
