"""One small message bus per service (cosmicpython's pattern).

A service builds its bus from two explicit tables, written in its ``bootstrap.py``:

- ``events``: event type -> handler, for what arrives from the broker;
- ``commands``: command class -> handler, for what a person or a system asks (HTTP, CLI,
  timer).

The bus, not the handler, opens the unit of work, records a consumed event in the inbox and
commits, so a handler only changes state and publishes to the outbox. A handler is a plain
function ``handler(uow, message, **dependencies)``; it names the dependencies it needs as
keyword parameters (``policies``, ``settings``, ``branches`` ...) and the bus passes those it
was built with.

Errors are classified once here: the service's domain errors become the platform's
(``Conflict``, ``InvalidInput`` ...) through the bus's ``errors`` table; what a message's
failure means for its delivery (retry, park, wait for the database) is decided in
:mod:`aftersales.messaging.entrypoint`, for every consumer alike.

Reading (views) does not go through the bus: a view opens its own unit of work and commits
nothing.
"""
from __future__ import annotations

import inspect
import logging
from functools import lru_cache
from typing import Any, Callable, Mapping

log = logging.getLogger(__name__)

Handler = Callable[..., Any]


@lru_cache(maxsize=None)
def _wanted(handler: Handler) -> tuple[set[str], bool]:
    params = inspect.signature(handler).parameters.values()
    names = {p.name for p in params if p.kind == p.KEYWORD_ONLY
             or (p.kind == p.POSITIONAL_OR_KEYWORD)}
    return names, any(p.kind == p.VAR_KEYWORD for p in params)


def _claim(uow, env) -> bool:
    """Record ``env`` in the inbox; False when it was processed already. One statement where
    the unit of work can (``claim``), else ``seen`` then ``record_processed``."""
    claim = getattr(uow, "claim", None)
    if claim is not None:
        return claim(env.event_id, env.type)
    if uow.seen(env.event_id):
        return False
    uow.record_processed(env.event_id, env.type)
    return True


class MessageBus:
    """``handle_event(envelope)`` and ``handle(command)``, each in one unit of work."""

    def __init__(self, uow: Callable[[], Any], *, events: Mapping[str, Handler] | None = None,
                 commands: Mapping[type, Handler] | None = None,
                 errors: Mapping[type[BaseException], Callable[[BaseException], BaseException]]
                 | None = None, before_batch: Callable[[Any, list], None] | None = None,
                 **dependencies):
        self.uow = uow                       # a factory: a new unit of work per message
        self.before_batch = before_batch     # (uow, envelopes): first in a batch's unit of work
        self.events = dict(events or {})
        self.commands = dict(commands or {})
        self.errors = dict(errors or {})
        self.dependencies = dependencies

    def _deps(self, handler: Handler) -> dict:
        names, takes_all = _wanted(handler)
        return {k: v for k, v in self.dependencies.items() if takes_all or k in names}

    # -- events ---------------------------------------------------------------------------------
    def handle_event(self, env) -> Any:
        """Run the handler of ``env.type`` once per ``event_id``: the inbox record, the
        handler's changes and its outgoing events commit together; a redelivery finds the id
        and has no second effect (None). A type the table does not list is acknowledged and
        ignored."""
        handler = self.events.get(env.type)
        if handler is None:
            log.info("ignoring %s events (event %s)", env.type, env.event_id)
            return None
        with self.uow() as uow:
            if not _claim(uow, env):
                return None
            result = handler(uow, env, **self._deps(handler))
            uow.commit()
        return result

    def handle_events(self, envs) -> list[Any]:
        """Run several events in ONE unit of work: per event the inbox check and record, then
        its handler, in order; one commit for all (``before_batch`` first, when the bus has
        one: a service whose handlers lock rows takes the whole batch's locks there in one
        order, so two batches never wait on each other in a cycle). Returns the per-event results (None for a
        duplicate or an ignored type). If anything raises, nothing of the batch is committed;
        the caller (``@consume_events(queue, batch=N)``) then handles each event alone."""
        results: list[Any] = []
        with self.uow() as uow:
            if self.before_batch is not None:   # e.g. take the batch's locks in one order
                self.before_batch(uow, list(envs))
            for env in envs:
                handler = self.events.get(env.type)
                if handler is None:
                    log.info("ignoring %s events (event %s)", env.type, env.event_id)
                    results.append(None)
                    continue
                if not _claim(uow, env):
                    results.append(None)
                    continue
                results.append(handler(uow, env, **self._deps(handler)))
            uow.commit()
        return results

    # -- commands -------------------------------------------------------------------------------
    def handle(self, command) -> Any:
        """Run ``command``'s handler in one unit of work and commit; the service's domain
        errors come out as the platform's (the ``errors`` table)."""
        try:
            handler = self.commands[type(command)]
        except KeyError:
            raise LookupError(f"no handler for the command {type(command).__name__}") from None
        try:
            with self.uow() as uow:
                result = handler(uow, command, **self._deps(handler))
                uow.commit()
            return result
        except tuple(self.errors) as exc:
            raise self._translate(exc) from None

    def _translate(self, exc: BaseException) -> BaseException:
        for kind in type(exc).__mro__:
            if kind in self.errors:
                return self.errors[kind](exc)
        return exc   # pragma: no cover (only listed kinds are caught)
