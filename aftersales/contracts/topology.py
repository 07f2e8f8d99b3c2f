"""Who listens to what: every exchange, queue and binding of the platform, in one place.

Every service declares the *whole* topology when it starts (declaring is idempotent), so a
queue exists before its consumer first runs and nothing published in between is lost. The
outbox relay also publishes with ``mandatory=True`` and keeps any message the broker returns.

Per consumer queue ``Q`` there are:
- ``Q.retry.<ms>ms``: delay queues (message TTL, dead-lettered back to ``Q``) for bounded retries;
- ``aftersales.<service>.parked``: the parking queue, where a message that cannot be handled
  is kept with its reason until an operator replays or purges it.
"""
from __future__ import annotations

from dataclasses import dataclass

from .events import EVENTS

PHONE_CENTER_EXCHANGE = "phone_center.events"
REPAIR_REQUESTED = "repair_requested"
SERVICES = ("intake", "dispatch", "parts", "feedback")


@dataclass(frozen=True)
class Binding:
    exchange: str
    routing_key: str


@dataclass(frozen=True)
class QueueSpec:
    name: str
    service: str
    bindings: tuple[Binding, ...]
    enveloped: bool = True   # False for the phone-center queue (integrators' own format)


def _events(*types: str) -> tuple[Binding, ...]:
    out = []
    for t in types:
        specs = [s for (tt, _), s in EVENTS.items() if tt == t]
        if not specs:
            raise LookupError(f"topology names unknown event {t!r}")
        out.append(Binding(specs[0].exchange, t))
    return tuple(out)


def _ticket_events_not_from(source: str) -> tuple[Binding, ...]:
    """Every other service's event about a ticket (its schema has ``ticket_no``): what the
    ticket's timeline is built from. A new event type is bound without naming it here."""
    return tuple(sorted({Binding(s.exchange, t) for (t, _), s in EVENTS.items()
                         if s.source != source and "ticket_no" in s.schema.model_fields},
                        key=lambda b: (b.exchange, b.routing_key)))


QUEUES: tuple[QueueSpec, ...] = (
    QueueSpec("aftersales.intake.phone_center", "intake",
              (Binding(PHONE_CENTER_EXCHANGE, REPAIR_REQUESTED),), enveloped=False),
    QueueSpec("aftersales.intake.events", "intake", _ticket_events_not_from("intake")),
    QueueSpec("aftersales.dispatch.events", "dispatch", _events(
        "ticket_opened", "customer_contacted", "ticket_reclassified", "ticket_resolved",
        "ticket_cancelled",
        # parts of the job's requests (quotes, appointments and the SLA board use them)
        "parts_request_approved", "parts_request_rejected", "parts_reserved",
        "parts_transfer_started", "parts_backordered", "parts_shipped", "parts_delivered")),
    QueueSpec("aftersales.parts.events", "parts", _events(
        # intake's warranty decision per ticket (parts requests take it from there)
        "ticket_opened", "job_completed", "parts_requested")),
    QueueSpec("aftersales.feedback.events", "feedback", _events(
        # customers (for surveys and visits) and complaints; closed jobs start the survey and
        # the return visits; the rest feeds the quality statistics
        "ticket_opened", "job_closed", "job_diagnosed", "sla_stage_completed",
        "parts_consumed")),
    # every service keeps its own list of revoked API keys
    *(QueueSpec(f"aftersales.{s}.keys", s, _events("key_revoked")) for s in SERVICES),
)


def exchanges() -> list[str]:
    names = {PHONE_CENTER_EXCHANGE}
    names.update(spec.exchange for spec in EVENTS.values())
    return sorted(names)


def queues_of(service: str) -> list[QueueSpec]:
    return [q for q in QUEUES if q.service == service]


def queue(name: str) -> QueueSpec:
    for q in QUEUES:
        if q.name == name:
            return q
    raise LookupError(f"unknown queue {name!r}")


def keys_queue(service: str) -> str:
    return f"aftersales.{service}.keys"


def parking_queue(service: str) -> str:
    return f"aftersales.{service}.parked"


def retry_queue(queue_name: str, delay_ms: int) -> str:
    return f"{queue_name}.retry.{int(delay_ms)}ms"


def consumers_of(type_: str) -> list[str]:
    return sorted({q.service for q in QUEUES for b in q.bindings if b.routing_key == type_})
