"""The parts service's events about a job's parts requests (approved with prices, rejected,
reserved, in transit, backordered, shipped, delivered): recorded on the job, for its quote and
the expected arrival of the parts. An event for a ticket without a job (or a transfer for no
request) is recorded as processed (the bus's inbox) and logged."""
from __future__ import annotations

import logging

from aftersales.contracts.envelope import Envelope
from aftersales.contracts.events import (PartsBackorderedV1, PartsDeliveredV1,
                                         PartsRequestApprovedV1, PartsRequestRejectedV1,
                                         PartsReservedV1, PartsShippedV1, PartsTransferStartedV1)

from ..domain import model

log = logging.getLogger(__name__)


def _approved(job: model.Job, e: PartsRequestApprovedV1) -> None:
    job.parts_approved(e.request_id, e.approved_at, [ln.model_dump() for ln in e.lines], e.total,
                       e.chargeable_total, e.in_warranty, e.approved_by, e.auto_approved)


# event type -> (its schema, what it does to the job)
PARTS_EVENTS = {
    "parts_request_approved": (PartsRequestApprovedV1, _approved),
    "parts_request_rejected": (PartsRequestRejectedV1,
                               lambda job, e: job.parts_rejected(e.request_id, e.rejected_at,
                                                                 e.reason)),
    "parts_reserved": (PartsReservedV1,
                       lambda job, e: job.parts_reserved(e.request_id, e.complete, e.transfer_id,
                                                         e.backorder_id)),
    "parts_transfer_started": (PartsTransferStartedV1,
                               lambda job, e: job.parts_transfer_started(
                                   e.request_id, e.transfer_id, e.expected_at)),
    "parts_backordered": (PartsBackorderedV1,
                          lambda job, e: job.parts_backordered(
                              e.request_id, [(ln.backorder_id, ln.expected_at) for ln in e.lines])),
    "parts_shipped": (PartsShippedV1, lambda job, e: job.parts_shipped(e.request_id, e.shipped_at)),
    "parts_delivered": (PartsDeliveredV1,
                        lambda job, e: job.parts_delivered(e.request_id, e.delivered_at)),
}


def on_parts_event(uow, env: Envelope) -> bool:
    """True when a job was updated."""
    schema, apply = PARTS_EVENTS[env.type]
    event = schema.model_validate(env.data)
    ticket_no = getattr(event, "ticket_no", None) or env.ticket_no
    request_id = getattr(event, "request_id", None)
    job = uow.jobs.get(ticket_no, lock=True) if ticket_no and request_id else None
    if job is None:
        log.info("%s (event %s, request %s): no job for ticket %s; recorded, nothing to do",
                 env.type, env.event_id, request_id, ticket_no)
        return False
    apply(job, event)
    uow.jobs.save(job)
    log.info("%s: parts request %s %s", ticket_no, request_id,
             next(r["status"] for r in job.parts_requests if r["request_id"] == request_id))
    return True
