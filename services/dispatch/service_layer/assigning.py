"""Choosing an engineer for a job and publishing the decision: shared by the opening of a job
(``opening.py``) and every reassignment (``handlers.py``).

Lock order (every use case that locks more than one of these takes them in this order, so two
transactions never wait on each other in a circle on PostgreSQL): the branch's **roster**
rows, then the **job** row, then the job's **SLA clock** rows. ``decide`` takes the roster
lock; a caller that also locks the job must have taken the roster lock first
(``lock_roster``)."""
from __future__ import annotations

from datetime import datetime

from ..domain import model, roster


def lock_roster(uow, branch: str | None) -> None:
    """Take the branch's roster lock (first in the lock order): serialises every assignment,
    opening and ending of a job in the branch."""
    if branch:
        uow.engineers.of_branch(branch, lock=True)


def _neighbours(uow, policies, branch: str):
    people, workload = [], {}
    for code in (policies.neighbours(branch) if policies else ()):
        people.extend(uow.engineers.of_branch(code))
        workload.update(uow.jobs.workload(code))
    return people, workload


def decide(uow, policies, branch: str, priority: str, needs: roster.Needs, site: str,
           now: datetime, exclude=()) -> roster.Assignment:
    people = uow.engineers.of_branch(branch, lock=True)   # serialises the branch
    near, near_load = _neighbours(uow, policies, branch)
    return roster.assign(people, uow.jobs.workload(branch), needs, now=now, priority=priority,
                         site=site, exclude=exclude, neighbours=near, neighbour_workload=near_load)


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
