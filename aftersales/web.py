"""The ``@http`` entrypoint every service uses: nameko's, with JSON errors for everything the
routes themselves never see.

nameko's ``WsgiApp`` answers an unknown route (404), a wrong method (405) or a redirect with
Werkzeug's HTML pages, and an entrypoint that raises with a plain-text ``Error: ...`` body.
Here those become JSON documents of the same shape as :func:`error_response`
(``{"error": "..."}``, 405 with its ``Allow`` header and ``allowed`` list), once for every
service: services import ``http`` from here (or ``aftersales.service``), never from
``nameko.web.handlers`` (two web servers would compete for one port).
"""
from __future__ import annotations

import json
import logging

from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Request, Response

from . import metrics

log = logging.getLogger(__name__)

KNOWN_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
UNMATCHED_ROUTE = "(no route)"   # the metrics' route label of requests no route matched


def json_response(status: int, doc, headers=None) -> Response:
    # a lone surrogate that reached a document is written as its JSON escape, never a 500
    body = json.dumps(doc, ensure_ascii=False, default=str).encode("utf-8", "backslashreplace")
    return Response(body, status=status, headers=headers,
                    content_type="application/json; charset=utf-8")


def error_response(status: int, message: str, **extra) -> Response:
    return json_response(status, {"error": message, **extra})


def routing_error_response(exc: HTTPException, method: str, path: str) -> Response:
    """A routing failure (no route, wrong method, a slash redirect, ...) as a JSON error."""
    path = path if len(path) <= 200 else path[:200] + "…"
    if isinstance(exc, RequestRedirect):
        return json_response(exc.code, {"error": f"moved to {exc.new_url}"},
                             headers={"Location": exc.new_url})
    if isinstance(exc, MethodNotAllowed):
        allowed = sorted(exc.valid_methods or ())
        return json_response(405, {"error": f"method {method} is not allowed for {path}; "
                                            f"allowed: {', '.join(allowed)}",
                                   "allowed": allowed},
                             headers={"Allow": ", ".join(allowed)})
    if isinstance(exc, NotFound):
        return error_response(404, f"no such route: {method} {path}")
    return error_response(exc.code or 500, exc.description or exc.name)


class JsonWsgiApp(WsgiApp):
    def __call__(self, environ, start_response):
        request = Request(environ, shallow=True)   # as nameko's: the body is read by the route
        try:
            adapter = self.url_map.bind_to_environ(environ)
            provider, values = adapter.match()
            request.path_values = values
            response = provider.handle_request(request)
        except HTTPException as exc:
            response = routing_error_response(exc, request.method, request.path)
            self._count(request.method, response.status_code)
        except Exception:
            log.exception("HTTP %s %s failed before reaching a route", request.method, request.path)
            response = error_response(500, "internal error")
            self._count(request.method, 500)
        return response(environ, start_response)

    def _count(self, method: str, status: int) -> None:
        service = getattr(self.server.container, "service_name", "?")
        method = method if method in KNOWN_METHODS else "OTHER"
        metrics.http_requests_total.labels(service, method, UNMATCHED_ROUTE, str(status)).inc()


class JsonWebServer(WebServer):
    def get_wsgi_app(self):
        return JsonWsgiApp(self)


class JsonHttpRequestHandler(HttpRequestHandler):
    server = JsonWebServer()

    def response_from_exception(self, exc):
        """An entrypoint that raised (routes wrapped in ``json_api`` never do): JSON, 400 for
        nameko's bad-request errors, otherwise 500 without details."""
        from nameko.exceptions import BadRequest
        if isinstance(exc, self.expected_exceptions) or isinstance(exc, BadRequest):
            return error_response(400, str(exc) or type(exc).__name__)
        log.error("HTTP entrypoint %s failed", getattr(self, "method_name", "?"),
                  exc_info=(type(exc), exc, exc.__traceback__))
        return error_response(500, "internal error")


http = JsonHttpRequestHandler.decorator
