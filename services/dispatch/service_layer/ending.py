"""A ticket ended by intake (``ticket_cancelled``, ``ticket_resolved``): its open job is
cancelled and every open SLA clock stops, neither met nor breached. Before its job opened, the
event is kept early (the opening then opens nothing) and a ticket kept without a visit is
forgotten."""
from __future__ import annotations

import logging

from aftersales.contracts.envelope import Envelope

from . import sla
from .assigning import lock_roster

log = logging.getLogger(__name__)


def on_ticket_ended(uow, env: Envelope) -> None:
    ticket_no = env.data.get("ticket_no") or env.ticket_no
    at = env.occurred_at
    lock_roster(uow, env.branch)          # serialised with the opening (lock order)
    job = uow.jobs.get(ticket_no, lock=True)
    if job is None:
        uow.jobs.add_early(ticket_no, env.type, at, dict(env.data))
        uow.kept.forget(ticket_no)          # a ticket kept without a visit: it has ended
    elif job.is_open:
        job.cancel(at)
        uow.jobs.save(job)
    n = sla.stop_in(uow, ticket_no, at)
    log.info("%s: %s; %d SLA clock(s) stopped", ticket_no, env.type, n)
