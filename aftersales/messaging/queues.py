"""The platform's durable queues as quorum queues, and the migration from classic ones.

Every durable queue of the topology (consumer queues, their retry delay queues, the parking
queues) is a quorum queue (replicated on a cluster). Consumer queues carry ``x-delivery-limit``
(``AFTERSALES_DELIVERY_LIMIT``): a message given back that often is dead-lettered by the
broker, at least once, to its service's parking queue, never dropped. The parking queue itself
has no delivery limit: browsing it (``aftersales parked list``) gives every message back.

A queue of the same name declared earlier with other arguments (a classic queue of an older
install) makes ``queue_declare`` fail with ``PRECONDITION_FAILED`` and closes the channel; the
declaration therefore runs on a channel of its own, the queue is used as it is, and an error
line names the way out: ``aftersales broker migrate-queues`` (:func:`migrate_queues`).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

import amqp
import amqp.exceptions

from .. import config, registry
from ..contracts import topology

log = logging.getLogger(__name__)

MIGRATING_SUFFIX = ".migrating"
MIGRATE_HINT = "run `aftersales broker migrate-queues` (services stopped) to convert it"


@dataclass(frozen=True)
class DurableQueue:
    name: str
    arguments: dict
    bindings: tuple[topology.Binding, ...] = ()


def _quorum(**extra) -> dict:
    return {"x-queue-type": "quorum", **extra}


def durable_queues(retry_delays_ms: list[int], delivery_limit: int | None = None) -> list[DurableQueue]:
    """Every durable queue of the topology with the arguments it is declared with."""
    limit = int(delivery_limit if delivery_limit is not None else config.delivery_limit())
    out: list[DurableQueue] = []
    for q in topology.QUEUES:
        out.append(DurableQueue(q.name, _quorum(**{
            "x-delivery-limit": limit,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": topology.parking_queue(q.service),
            "x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}),
            q.bindings))
        for delay in retry_delays_ms:
            out.append(DurableQueue(topology.retry_queue(q.name, delay), _quorum(**{
                "x-delivery-limit": limit,
                "x-message-ttl": int(delay), "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": q.name,
                "x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"})))
    for service in registry.SERVICES:
        out.append(DurableQueue(topology.parking_queue(service), _quorum()))
    return out


def _declare(channel, q: DurableQueue, passive: bool = False):
    return channel.queue_declare(q.name, durable=True, auto_delete=False, passive=passive,
                                 arguments=None if passive else q.arguments)


def declare_queues(connection, queues: list[DurableQueue]) -> list[str]:
    """Declare and bind ``queues`` on a channel of their own (``connection``: an
    ``amqp.Connection``). Returns the names of the queues that exist with other arguments
    (kept and used as they are, with an error line)."""
    inequivalent: list[str] = []
    ch = connection.channel()
    try:
        for q in queues:
            try:
                _declare(ch, q)
            except amqp.exceptions.PreconditionFailed as exc:
                inequivalent.append(q.name)
                log.error("queue %s exists with other arguments than the platform's (%s); "
                          "it is used as it is: %s", q.name, exc, MIGRATE_HINT)
                ch = connection.channel()
            for b in q.bindings:
                ch.queue_bind(q.name, b.exchange, b.routing_key)
    finally:
        try:
            ch.close()
        except Exception:   # the connection is gone; the caller's next operation says so
            pass
    return inequivalent


def _amqp_connection(channel):
    return getattr(channel, "connection", None)


# -- migration -------------------------------------------------------------------------------
def _exists(connection, name: str) -> int | None:
    """Messages in ``name``, or None when it does not exist."""
    ch = connection.channel()
    try:
        return int(ch.queue_declare(name, passive=True).message_count)
    except amqp.exceptions.NotFound:
        return None
    finally:
        try:
            ch.close()
        except Exception:
            pass


def _equivalent(connection, q: DurableQueue) -> bool:
    ch = connection.channel()
    try:
        _declare(ch, q)
        return True
    except amqp.exceptions.PreconditionFailed:
        return False
    finally:
        try:
            ch.close()
        except Exception:
            pass


def _move(connection, source: str, target: str) -> int:
    """Move every message of ``source`` to ``target``: each is published with a publisher
    confirm before it is acknowledged at the source, so a crash leaves a copy at least."""
    ch = connection.channel()
    moved = 0
    try:
        while True:
            m = ch.basic_get(source, no_ack=False)
            if m is None:
                return moved
            body = m.body
            if isinstance(body, str):
                body = body.encode(m.properties.get("content_encoding") or "utf-8")
            props = {k: v for k, v in m.properties.items() if k != "delivery_mode"}
            ch.basic_publish_confirm(amqp.Message(body, delivery_mode=2, **props),
                                     exchange="", routing_key=target, confirm_timeout=30)
            ch.basic_ack(m.delivery_tag)
            moved += 1
    finally:
        ch.close()


def migrate_queues(connection, retry_delays_ms: list[int], delivery_limit: int | None = None,
                   dry_run: bool = False, say: Callable[[str], None] = print) -> list[str]:
    """Re-create every topology queue that exists with other arguments (a classic queue) as
    the platform declares it, keeping its messages: move them to ``<name>.migrating``, delete
    the queue, declare it, bind it, move them back, delete the temporary queue. Idempotent: an
    interrupted run is finished by the next one (a ``.migrating`` queue left over is moved back).
    Run it with the services stopped. Returns the names of the queues migrated (or, with
    ``dry_run``, to migrate)."""
    done: list[str] = []
    queues = durable_queues(retry_delays_ms, delivery_limit)
    for q in queues:
        tmp = q.name + MIGRATING_SUFFIX
        count = _exists(connection, q.name)
        leftover = _exists(connection, tmp)
        needs = count is not None and not _equivalent(connection, q)
        if not needs and leftover is None:
            continue
        done.append(q.name)
        if dry_run:
            say(f"would migrate {q.name}" + (f" ({count} message(s))" if needs else
                                             f" (finish: {leftover} message(s) in {tmp})"))
            continue
        if needs:
            say(f"migrating {q.name}: {count} message(s)")
            ch = connection.channel()
            ch.queue_declare(tmp, durable=True, auto_delete=False)
            ch.close()
            moved = _move(connection, q.name, tmp)
            say(f"  {moved} message(s) moved to {tmp}")
            ch = connection.channel()
            ch.queue_delete(q.name)
            ch.close()
        declare_queues(connection, [q])
        back = _move(connection, tmp, q.name)
        ch = connection.channel()
        ch.queue_delete(tmp, if_empty=True)
        ch.close()
        say(f"  {q.name} is a quorum queue; {back} message(s) moved back")
    if not done:
        say("every queue of the topology is already as declared; nothing to migrate")
    return done
