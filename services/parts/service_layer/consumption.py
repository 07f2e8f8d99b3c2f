"""A job's completion: the parts fitted are taken from the job's branch warehouse."""
from __future__ import annotations

import logging

from aftersales.contracts.envelope import Envelope, utcnow
from aftersales.contracts.events import JobCompletedV1
from aftersales.errors import PermanentError

from ..adapters.completed import CompletedJobs
from ..domain import model, requests as rq
from .common import Settings, finish_book, open_book
from .requests import cancel_backorders, release

log = logging.getLogger(__name__)


def on_job_completed(uow, env: Envelope, settings: Settings) -> model.JobConsumption | None:
    """``job_completed``: take the parts fitted from the job's branch warehouse — first what
    the ticket's parts requests hold, then free stock — and publish ``parts_consumed``
    (lines taken, and shortages that were not). The requests are completed: parts reserved
    on the shelf and not used are released at once; unused parts out with the engineer stay
    reserved until the warehouse confirms their return."""
    branches = settings.branches
    job = JobCompletedV1.model_validate(env.data)
    warehouse = env.branch
    if warehouse not in branches and job.parts_used:
        raise PermanentError(f"job_completed for {env.ticket_no} names no known branch "
                             f"warehouse ({warehouse!r})")
    CompletedJobs(uow.session).record(job.ticket_no, warehouse, utcnow())
    if warehouse not in branches:       # no parts and no warehouse: nothing to do
        return None
    open_requests = [r for r in uow.requests.for_ticket(job.ticket_no, rq.ACTIVE + (rq.PENDING,))
                     if r.branch == warehouse]
    if not job.parts_used and not open_requests:
        return None
    lines = [model.Line(p.sku, p.quantity, p.serial_no) for p in job.parts_used]
    skus = {line.sku for line in lines}
    for r in open_requests:
        skus |= set(r.quantities())
    uow.catalogue.lock(skus)
    known = set(uow.catalogue.get_many(skus))
    locked = [uow.requests.get(r.request_id, lock=True) for r in open_requests]
    open_requests = [r for r in locked if r.status in rq.ACTIVE + (rq.PENDING,)]
    active = [r for r in open_requests if r.status in rq.ACTIVE]
    now = utcnow()
    book = open_book(uow, now)
    holds = uow.ledger.holds([r.request_id for r in active])
    plan = model.plan_job_consumption(
        lines, holds, book.available(warehouse, [s for s in skus if s in known]))
    for entry in plan.entries(warehouse, now, job.ticket_no, str(env.event_id),
                              actor="job_completed"):
        book.post(entry)
    for r in open_requests:
        left = [h for h in plan.leftovers if h.request_id == r.request_id]
        shelf = [model.Hold(h.request_id, h.sku, shelf=h.shelf) for h in left if h.shelf]
        release(book, r, shelf, "job_completed")
        r.complete("job_completed", now, parts_out=any(h.issued for h in left))
        cancel_backorders(uow, r.request_id, now)   # the job no longer waits for them
        uow.requests.save(r, now)
    finish_book(uow, book)
    if lines:
        uow.publish("parts_consumed", {
            "ticket_no": job.ticket_no, "warehouse": warehouse,
            "lines": [line.as_dict() for line in plan.consumed()],
            "shortages": [line.as_dict() for line in plan.shortages],
        }, ticket_no=job.ticket_no, branch=warehouse)
    if plan.shortages:
        log.warning("%s: short of %s in %s", job.ticket_no,
                    ", ".join(f"{s.sku}×{s.quantity}" for s in plan.shortages), warehouse)
    return plan
