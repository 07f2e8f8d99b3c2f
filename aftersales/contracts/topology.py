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
from functools import lru_cache

from .events import EVENTS

PHONE_CENTER_EXCHANGE = "phone_center.events"
REPAIR_REQUESTED = "repair_requested"


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


@lru_cache(maxsize=1)
def queues() -> tuple[QueueSpec, ...]:
    """Every consumer queue of the installed services. A service's events queue is bound to
    the types of its bus's ``EVENTS`` table (``bootstrap.py``, through its ``plugin.py``), so a
    new consumer is one line there; intake's timeline queue takes every other service's ticket
    event; every service has a queue of revoked API keys."""
    from .. import registry    # the services' tables; imported when first asked, not at import
    out = [QueueSpec("aftersales.intake.phone_center", "intake",
                     (Binding(PHONE_CENTER_EXCHANGE, REPAIR_REQUESTED),), enveloped=False),
           QueueSpec("aftersales.intake.events", "intake", _ticket_events_not_from("intake"))]
    for name in registry.SERVICES:
        consumed = registry.consumed_events(name)
        if consumed:
            out.append(QueueSpec(f"aftersales.{name}.events", name, _events(*consumed)))
    out.extend(QueueSpec(keys_queue(s), s, _events("key_revoked")) for s in registry.SERVICES)
    return tuple(out)


def __getattr__(name: str):
    if name == "QUEUES":          # computed on first use (it needs the services' bus tables)
        return queues()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def exchanges() -> list[str]:
    names = {PHONE_CENTER_EXCHANGE}
    names.update(spec.exchange for spec in EVENTS.values())
    return sorted(names)


def queues_of(service: str) -> list[QueueSpec]:
    return [q for q in queues() if q.service == service]


def queue(name: str) -> QueueSpec:
    for q in queues():
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
    return sorted({q.service for q in queues() for b in q.bindings if b.routing_key == type_})
