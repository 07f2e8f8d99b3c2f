"""What every nameko service class is built from: the ``Store`` dependency, JSON HTTP
helpers, and a ``BaseService`` with ``/health`` and ``/metrics``. The ``@http`` entrypoint
itself (JSON errors for unknown routes, wrong methods and failures) is in :mod:`aftersales.web`.

``Store`` connects in ``setup()`` (never at import): engine, migrations (``upgrade head``),
session factory and the outbox relay, which runs in a managed green thread from ``start()``.
Workers get a :class:`StoreAccess` whose ``uow()`` opens a unit of work.
"""
from __future__ import annotations

import functools
import json
import logging
import threading
import time
from datetime import datetime
from pathlib import Path

from nameko.extensions import DependencyProvider
from werkzeug.wrappers import Response

from . import access, jsonbounds, logs, metrics
from .auth import MAX_LIFETIME, AuthError, Forbidden, principal_from_header
from .config import check_secrets, verification_secrets
from .clock import utcnow
from .contracts import topology
from .db import make_engine, migrate, ping, session_factory
from .errors import Conflict, Gone, InvalidInput, NotFound
from .messaging import broker
from .messaging.availability import Availability
from .messaging.publisher import discard
from .messaging.relay import OutboxRelay
from .openapi import documented
from .outbox import UnitOfWork, outbox_backlog
from .revocation import RevokedKeys, key_revocations
from .web import error_response, http, json_response  # noqa: F401 (services import them here)

log = logging.getLogger(__name__)


class StoreAccess:
    def __init__(self, store: "Store"):
        self._store = store
        self.config = store.settings                     # the AFTERSALES section
        self.service_config = store.container.config     # the whole nameko configuration
        self.engine = store.engine

    def uow(self) -> UnitOfWork:
        s = self._store
        return s.uow_class(s.sessions, s.service, on_commit=s.relay.wake)

    def health(self):
        return self._store.health()

    def exposition(self):
        return metrics.exposition(self._store.collector)

    def principal(self, request):
        p = principal_from_header(verification_secrets(self.config),
                                  request.headers.get("Authorization"),
                                  max_lifetime=self.config.get("key_max_lifetime", MAX_LIFETIME))
        if p.key_id in self._store.revoked:
            raise AuthError(f"API key {p.key_id} has been revoked")
        return p

    def record_revocation(self, envelope):
        self._store.revoked.record(envelope)


class Store(DependencyProvider):
    availability = Availability()   # shared with the consumers: the database gate

    def __init__(self, migrations_dir: Path, uow_class=UnitOfWork, gauges=None):
        self.migrations_dir = Path(migrations_dir)
        self.uow_class = uow_class
        self.gauges = gauges   # callable(session, settings) -> list of gauge tuples
        self.engine = None
        self.relay = None
        self._broker_conn = None
        self._broker_lock = threading.Lock()

    def setup(self):
        self.settings = self.container.config["AFTERSALES"]
        self.service = self.settings["service"]
        check_secrets(self.settings)   # production mode: no start without a good secret
        self.engine = make_engine(self.settings["database_url"], self.settings.get("pool_size", 12))
        migrate(self.engine, self.migrations_dir)
        self.sessions = session_factory(self.engine)
        self.revoked = RevokedKeys(self.engine)
        self.availability.probe = functools.partial(ping, self.engine)
        self.relay = OutboxRelay(self.engine, self.container.config["AMQP_URI"],
                                 self.settings["retry_delays_ms"],
                                 interval=self.settings.get("relay_interval", 1.0),
                                 heartbeat=self.container.config.get("HEARTBEAT", 30),
                                 max_attempts=self.settings.get("outbox_max_attempts", 30),
                                 retention=retention_settings(self.settings),
                                 metrics=_RelayMetrics(self.service))
        self.collector = metrics.ServiceCollector(self._collect)

    def start(self):
        self.container.spawn_managed_thread(self.relay.run, identifier=f"{self.service}.outbox_relay")

    def stop(self):
        self.relay.stop()
        self._close_broker()
        self.engine.dispose()

    def kill(self):
        self.relay.stop()

    def get_dependency(self, worker_ctx):
        return StoreAccess(self)

    # -- health and scrape-time gauges ----------------------------------------------------
    def _close_broker(self):
        conn, self._broker_conn = self._broker_conn, None
        if conn is not None:
            discard(conn)   # no closing handshake: a blocked or half-dead broker never answers

    def _broker_channel(self):
        if self._broker_conn is None or not self._broker_conn.connected:
            self._close_broker()
            self._broker_conn = broker.connection(self.container.config["AMQP_URI"],
                                                  connect_timeout=2, io_timeout=3,
                                                  read_timeout=3)
            self._broker_conn.ensure_connection(max_retries=1, interval_start=0)
        return self._broker_conn.default_channel

    def parked_count(self) -> int:
        # one probe at a time; a second caller does not queue behind a slow broker
        if not self._broker_lock.acquire(timeout=3):
            raise TimeoutError("the broker did not answer (another check is still waiting)")
        try:
            return broker.queue_depth(self._broker_channel(), topology.parking_queue(self.service))
        except Exception:
            self._close_broker()
            raise
        finally:
            self._broker_lock.release()

    def health(self) -> tuple[bool, dict]:
        checks = {}
        try:
            ping(self.engine)
            checks["database"] = {"ok": True, "backend": self.engine.dialect.name}
        except Exception as exc:
            checks["database"] = {"ok": False, "error": str(exc).splitlines()[0]}
        consuming = self.availability.consumer_connected
        try:
            checks["broker"] = {"ok": consuming is not False, "parked_messages": self.parked_count(),
                                "relay_connected": self.relay.broker_connected,
                                "consumers_connected": consuming}
            if consuming is False:
                checks["broker"]["error"] = "the consumers are reconnecting to the broker"
        except Exception as exc:
            checks["broker"] = {"ok": False, "error": str(exc) or type(exc).__name__,
                                "consumers_connected": consuming}
        checks["database"]["messages_paused"] = not self.availability.database_up
        return all(c["ok"] for c in checks.values()), checks

    def _collect(self):
        out = []
        svc = self.service
        try:
            with self.sessions() as session:
                backlog, oldest = outbox_backlog(session)
                lag = 0.0
                if oldest is not None:   # aware UTC (UTCDateTime)
                    lag = max(0.0, (utcnow() - oldest).total_seconds())
                out.append(("aftersales_outbox_pending", "Events waiting in the outbox.",
                            ["service"], [((svc,), backlog)]))
                out.append(("aftersales_outbox_lag_seconds",
                            "Age of the oldest unpublished outbox event.", ["service"],
                            [((svc,), lag)]))
                if self.gauges:
                    out.extend(self.gauges(session, self.settings))
            db_up = 1
        except Exception as exc:
            log.warning("metrics: database unavailable: %s", exc)
            db_up = 0
        out.append(("aftersales_database_up", "1 when the service's database answers.",
                    ["service"], [((svc,), db_up)]))
        try:
            parked, broker_up = self.parked_count(), 1
        except Exception:
            parked, broker_up = 0, 0
        out.append(("aftersales_parked_messages", "Messages in the service's parking queue.",
                    ["service"], [((svc,), parked)]))
        out.append(("aftersales_broker_up", "1 when the broker answers.", ["service"],
                    [((svc,), broker_up)]))
        return out


class Bus(DependencyProvider):
    """The service's message bus for each worker: ``Bus(build)``, where the service's
    ``bootstrap.build(store)`` makes an :class:`aftersales.messagebus.MessageBus` from the
    worker's :class:`StoreAccess` (``store.uow`` as the unit-of-work factory,
    ``store.config`` for the dependencies)."""

    def __init__(self, build):
        self.build = build

    def get_dependency(self, worker_ctx):
        store = next(d for d in self.container.dependencies if isinstance(d, Store))
        return self.build(StoreAccess(store))


def retention_settings(settings) -> dict:
    return {"outbox_hours": float(settings.get("outbox_retention_hours", 168)),
            "inbox_hours": float(settings.get("inbox_retention_hours", 336)),
            "interval_s": float(settings.get("prune_interval_s", 600))}


class LogContext(DependencyProvider):
    """Binds the event being handled (``event_id``, ``ticket_no``) to every log line of the
    worker, for correlation across services."""

    def worker_setup(self, worker_ctx):
        data = worker_ctx.context_data or {}
        logs.bind(event_id=data.get("event_id"), ticket_no=data.get("ticket_no"),
                  branch=data.get("branch"))

    def worker_teardown(self, worker_ctx):
        logs.clear()


class _RelayMetrics:
    def __init__(self, service):
        self._c = metrics.outbox_published_total.labels(service)

    def outbox_published(self, n):
        if n:
            self._c.inc(n)


# -- HTTP -----------------------------------------------------------------------------------
def read_json(request, strict: bool = True) -> dict:
    """The request body as a JSON object, read within the bounds of :mod:`aftersales.jsonbounds`,
    or InvalidInput naming the problem (``(body)`` or the fields beyond the bounds). With
    ``strict=False`` such fields are left as markers for the caller's own validation."""
    if (request.content_length or 0) > jsonbounds.MAX_BODY_BYTES:   # not even read
        raise InvalidInput([{"field": "(body)", "message": f"is {request.content_length} bytes; "
                             f"the limit is {jsonbounds.MAX_BODY_BYTES} (256 KiB)"}])
    try:
        doc = jsonbounds.loads(request.get_data(), strict=strict)
    except jsonbounds.BodyError as exc:
        raise InvalidInput(exc.errors) from None
    if not isinstance(doc, dict):
        raise InvalidInput([{"field": "(body)", "message": "must be a JSON object"}])
    return doc


def parse(model, request, empty_ok: bool = False):
    """The request body validated by the pydantic ``model``; InvalidInput naming every bad
    field. With ``empty_ok`` an empty body is the model's defaults."""
    from pydantic import ValidationError

    from .errors import pydantic_errors
    if empty_ok and not request.get_data():
        return model()
    try:
        return model.model_validate(read_json(request))
    except ValidationError as exc:
        raise InvalidInput(pydantic_errors(exc)) from None


def query_time(raw: str | None, name: str, tz: str = "Asia/Shanghai") -> datetime | None:
    """A date or time from a query parameter (ISO-8601; without an offset it is ``tz``'s local
    time), None when absent; InvalidInput naming ``name`` when unreadable."""
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput([{"field": name, "message": "is not an ISO-8601 date or time"}]) from None
    if value.tzinfo is None:
        from zoneinfo import ZoneInfo
        value = value.replace(tzinfo=ZoneInfo(tz))
    return value


def report_response(service, request, route: str, build, to_csv, filename):
    """A report as JSON, or as CSV with ``?format=csv`` (UTF-8, a download named
    ``filename(report)``). ``build(service, request)`` makes the report dict; errors are the
    JSON errors of :func:`json_api` in both formats."""
    fmt = request.args.get("format", "json")
    produced = {}

    @json_api(route)
    def run(svc, req):
        if fmt not in ("json", "csv"):
            raise InvalidInput([{"field": "format", "message": "must be json or csv"}])
        produced["report"] = build(svc, req)
        return 200, produced["report"]

    response = run(service, request)
    if fmt != "csv" or response.status_code != 200:
        return response
    report = produced["report"]
    return Response(to_csv(report), status=200, content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename(report)}"'})


def json_api(route: str, *, body=None, response=None, status: int = 200, also=(), query=None,
             errors: tuple[int, ...] = (), summary: str | None = None, media=None):
    """Wrap an ``@http`` method: its return value ``(status, doc)`` becomes a JSON response,
    and the platform's exceptions become JSON errors (401, 403, 404, 409, 410, 422). A role
    the table of ``aftersales/access.py`` does not list for the route gets 403 first.

    ``body``, ``query`` and ``response`` (pydantic models), ``status`` (of success; ``also``
    the other success statuses with the same body, e.g. 200 for a repeat of a 201),
    ``errors`` (the statuses beyond those every such route may answer) and ``summary`` describe
    the route in the service's OpenAPI document (:mod:`aftersales.openapi`)."""
    from .openapi import RouteDoc
    doc = RouteDoc(route=route, summary=summary, body=body, response=response, status=status,
                   also=tuple(also), query=query, errors=tuple(errors), media=dict(media or {}))

    def deco(fn):
        @functools.wraps(fn)
        def wrapper(self, request, *args, **kwargs):
            started = time.monotonic()
            try:
                access.check(self, request, route)   # the role table, before the body is read
                status, doc = fn(self, request, *args, **kwargs)
                resp = json_response(status, doc)
            except AuthError as exc:
                resp = error_response(401, str(exc))
            except Forbidden as exc:
                resp = error_response(403, str(exc))
            except NotFound as exc:
                resp = error_response(404, str(exc))
            except Conflict as exc:
                resp = error_response(409, str(exc))
            except Gone as exc:
                resp = error_response(410, str(exc))
            except InvalidInput as exc:
                status = 400 if exc.errors and exc.errors[0]["field"] == "(body)" else 422
                resp = error_response(status, "invalid request", errors=exc.errors)
            except Exception:
                log.exception("HTTP %s %s failed", request.method, route)
                resp = error_response(500, "internal error")
            svc = getattr(self, "name", "?")
            metrics.http_requests_total.labels(svc, request.method, route, str(resp.status_code)).inc()
            log.debug("%s %s -> %s in %.3fs", request.method, route, resp.status_code,
                      time.monotonic() - started)
            return resp
        wrapper.openapi = doc
        return wrapper
    return deco


class BaseService:
    """``/health``, ``/metrics`` and revoked API keys (``key_revoked``) for every service;
    subclasses set ``name`` and ``store``."""

    name = "base"
    store: StoreAccess
    log_context = LogContext()

    @http("GET", "/health")
    @documented(summary="Liveness and readiness: the database and the broker.",
                errors=(503,), media={"application/json": {"schema": {"type": "object"}}})
    def health(self, request):
        ok, checks = self.store.health()
        return json_response(200 if ok else 503,
                             {"service": self.name, "status": "ok" if ok else "degraded",
                              "checks": checks})

    @key_revocations
    def on_key_revoked(self, envelope):
        self.store.record_revocation(envelope)

    @http("GET", "/metrics")
    @documented(summary="Prometheus metrics (text exposition format).",
                media={"text/plain": {"schema": {"type": "string"}}})
    def metrics_endpoint(self, request):
        body, ctype = self.store.exposition()
        return Response(body, status=200, content_type=ctype)

    @http("GET", "/openapi.json")
    @documented(summary="This API as an OpenAPI 3.1 document.",
                media={"application/json": {"schema": {"type": "object"}}})
    def openapi_document(self, request):
        from .openapi import document
        return json_response(200, document(type(self)))

    @http("GET", "/docs")
    @documented(summary="This API as a page to read (接口文档).",
                media={"text/html": {"schema": {"type": "string"}}})
    def api_page(self, request):
        from .openapi import document
        from .openapi_page import render
        return Response(render(document(type(self))), status=200,
                        content_type="text/html; charset=utf-8")
