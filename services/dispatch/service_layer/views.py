"""The read side: the job (with its assignment history, SLA clocks and reports), its SLA
clocks, the job list, the dispatchers' board and the roster list. Each view opens its own
unit of work (one snapshot when it reads several queries) and commits nothing; views do not go
through the bus."""
from __future__ import annotations

from datetime import datetime

from aftersales.auth import Forbidden, Principal
from aftersales.contracts.envelope import utcnow
from aftersales.errors import NotFound
from aftersales.localtime import iso
from aftersales.scoping import scope

from .. import bodies
from ..domain import clocks as ck
from ..domain import model
from ..domain.roster import ENGINEER
from . import roster



def visible_job(uow, principal: Principal, ticket_no: str, lock: bool = False) -> model.Job:
    """The job if the key may see it: its branch (HQ: all), or the engineer it is assigned
    to, also one lent from a neighbouring branch."""
    job = uow.jobs.get(ticket_no, lock=lock)
    mine = (principal.role == "engineer" and principal.engineer_id is not None
            and job is not None and principal.engineer_id == job.engineer_id)
    if job is None or not (principal.can_access(job.branch) or mine):
        raise NotFound(f"no job {ticket_no}")
    return job


def require_own(principal, job: model.Job) -> None:
    """An engineer acts only on a job assigned to them (staff: on any job they can see)."""
    if principal.role == "engineer" and (not principal.engineer_id
                                         or principal.engineer_id != job.engineer_id):
        raise Forbidden(f"job {job.ticket_no} is not assigned to engineer "
                        f"{principal.engineer_id}")


def job_view(job: model.Job, history: list[dict] | None = None) -> dict:
    view = {
        "ticket_no": job.ticket_no, "branch": job.branch, "status": job.status,
        "priority": job.priority, "category": job.category, "product_line": job.product_line,
        "received_at": iso(job.received_at), "engineer_id": job.engineer_id,
        "engineer_name": job.engineer_name, "escalated_to": job.escalated_to,
        "assigned_at": iso(job.assigned_at), "accepted_at": iso(job.accepted_at),
        "checked_in_at": iso(job.checked_in_at), "completed_at": iso(job.completed_at),
        "summary": job.summary, "parts_used": job.parts_used,
        "in_warranty": job.in_warranty, "chargeable": job.chargeable,
        "appointment": ({"from": iso(job.appointment_from), "to": iso(job.appointment_to)}
                        if job.appointment_from else None),
        "en_route_at": iso(job.en_route_at), "diagnosis": job.diagnosis, "quote": job.quote,
        "signed_off_at": iso(job.signed_off_at), "signed_by": job.signed_by,
        "closed_at": iso(job.closed_at),
        "cancelled_at": iso(job.cancelled_at), "visits": job.visits,
        "rework_count": job.rework_count, "declined_by": job.declined_by,
        "last_report_at": iso(job.last_report_at),
        "parts_requests": job.parts_requests,
        "parts_chargeable_total": str(job.parts_chargeable_total),
        "parts_expected_at": iso(job.parts_expected_at),
    }
    if history is not None:
        view["assignments"] = [{**a, "decided_at": iso(a["decided_at"])} for a in history]
    return view


def evidence_view(row: dict) -> dict:
    """A ``job_evidence`` row as the routes show it."""
    return {**row, "uploaded_at": iso(row["uploaded_at"]), "taken_at": iso(row["taken_at"])}


def get_job(uow, principal: Principal, ticket_no: str) -> dict:
    with uow:
        uow.snapshot()
        job = visible_job(uow, principal, ticket_no)
        view = job_view(job, uow.jobs.assignments(ticket_no))
        view["sla"] = clocks_view(uow, ticket_no)
        view["reports"] = [{**r, "reported_at": iso(r["reported_at"])}
                           for r in uow.jobs.reports(ticket_no)]
        view["evidence"] = [evidence_view(r) for r in uow.evidence.of_job(ticket_no)]
        return view


def get_sla(uow, principal: Principal, ticket_no: str) -> dict:
    with uow:
        uow.snapshot()
        visible_job(uow, principal, ticket_no)
        return clocks_view(uow, ticket_no)


def list_jobs(uow, principal: Principal, args) -> dict:
    """The key's branch's jobs (HQ: all, or ``branch=``), optionally by ``status``; an
    engineer's key lists that engineer's jobs only. Oldest received first."""
    q = bodies.query(bodies.JobsQuery, args)
    status, limit = q.status, q.limit
    branch = scope(principal, q.branch)
    engineer_id = None
    if principal.role == "engineer":
        if not principal.engineer_id:
            raise Forbidden("this engineer key names no engineer")
        engineer_id = principal.engineer_id
        if not q.branch:
            branch = None          # their own jobs, also those of a neighbouring branch
    with uow:
        found = uow.jobs.find(branch=branch, status=status, engineer_id=engineer_id, limit=limit)
    return {"jobs": [job_view(j) for j in found], "count": len(found)}


def board(uow, principal: Principal, args, now: datetime | None = None) -> dict:
    """The dispatchers' board: open jobs with their most urgent SLA clock, who is where
    (each engineer's open jobs and the site of the one on site), and what is at risk or
    overdue, most urgent first."""
    principal.require_role("dispatcher", "manager", "agent")
    branch = scope(principal, bodies.query(bodies.BranchQuery, args).branch)
    now = now or utcnow()
    with uow:
        uow.snapshot()
        open_jobs = uow.jobs.find_open(branch)
        paused = uow.sla.paused_tickets()
        clocks = {}
        for c in uow.sla.open_clocks(branch):
            clocks.setdefault(c.ticket_no, []).append(c)
        people = uow.engineers.all(branch)
    rows, attention = [], []
    for job in open_jobs:
        mine = sorted(clocks.get(job.ticket_no, []),
                      key=lambda c: (c.due_at is None, c.due_at or now))
        nxt = mine[0] if mine else None
        row = {"ticket_no": job.ticket_no, "branch": job.branch, "status": job.status,
               "priority": job.priority, "category": job.category,
               "engineer_id": job.engineer_id, "escalated_to": job.escalated_to,
               "parts_expected_at": iso(job.parts_expected_at),
               "next_deadline": (clock_view(nxt, now, job.ticket_no in paused)
                                 if nxt else None)}
        rows.append(row)
        for c in mine:
            state = ck.board_state(c, now, job.ticket_no in paused)
            if state in ("at_risk", "overdue"):
                attention.append({"ticket_no": job.ticket_no, "stage": c.stage,
                                  "priority": c.priority, "state": state,
                                  "due_at": iso(c.due_at), "engineer_id": job.engineer_id})
    rows.sort(key=lambda r: (r["next_deadline"] is None,
                             (r["next_deadline"] or {}).get("due_at") or ""))
    where = []
    for e, _shift in people:
        if e.role != ENGINEER:
            continue
        theirs = [j for j in open_jobs if j.engineer_id == e.engineer_id]
        on_site = next((j for j in theirs if j.status in model.ON_SITE_STATES), None)
        moving = next((j for j in theirs if j.status == model.EN_ROUTE), None)
        where.append({"engineer_id": e.engineer_id, "name": e.name, "branch": e.branch,
                      "active": e.active, "on_leave": e.on_leave(now), "on_shift": e.on_shift(now),
                      "open_jobs": sum(1 for j in theirs if j.status in model.BUSY_STATES),
                      "max_jobs": e.max_jobs,
                      "on_site_at": on_site.ticket_no if on_site else None,
                      "en_route_to": moving.ticket_no if moving else None})
    return {"branch": branch or "HQ", "at": now.isoformat(), "jobs": rows,
            "attention": sorted(attention, key=lambda a: (a["state"] != "overdue", a["due_at"] or "")),
            "engineers": where}


def list_engineers(uow, principal: Principal, args) -> dict:
    """The branch's people (HQ: everyone, or ``branch=``) with their open jobs."""
    principal.require_role(*roster.READ_ROLES)
    branch = scope(principal, bodies.query(bodies.BranchQuery, args).branch)
    now = utcnow()
    with uow:
        uow.snapshot()
        people = uow.engineers.all(branch)
        load = uow.jobs.workload(branch) if branch else {}
    out = []
    for e, _doc in people:
        v = roster.engineer_view(e, now)
        v["open_jobs"] = load.get(e.engineer_id, 0) if branch else None
        out.append(v)
    return {"engineers": out, "count": len(out)}


# -- SLA clocks ------------------------------------------------------------------------------
def clock_view(c: ck.StageClock, now: datetime, paused: bool = False) -> dict:
    return {"stage": c.stage, "priority": c.priority, "status": c.status,
            "state": ck.board_state(c, now, paused), "target_seconds": c.target_seconds,
            "working_hours": c.working, "due_at": iso(c.due_at), "at_risk_at": iso(c.at_risk_at),
            "at_risk_raised_at": iso(c.at_risk_raised_at), "breached_at": iso(c.breached_at),
            "escalation_level": c.escalation_level, "escalated_to": c.escalated_to,
            "completed_at": iso(c.completed_at), "elapsed_seconds": c.elapsed_seconds}


def clocks_view(uow, ticket_no: str, now: datetime | None = None) -> dict:
    now = now or utcnow()
    clocks = uow.sla.of_ticket(ticket_no)
    order = {s: i for i, s in enumerate(("response", "dispatch", "arrival", "resolution"))}
    pause = uow.sla.open_pause(ticket_no)
    return {
        "ticket_no": ticket_no,
        "clocks": [clock_view(c, now, pause is not None) for c in sorted(clocks.values(), key=lambda c: order[c.stage])],
        "paused": pause is not None,
        "pauses": [{"started_at": iso(a), "ended_at": iso(b)} for a, b in uow.sla.pauses(ticket_no)],
        "history": [{**h, "due_at": iso(h["due_at"]), "at_risk_at": iso(h["at_risk_at"]),
                     "changed_at": iso(h["changed_at"])} for h in uow.sla.history(ticket_no)],
    }
