"""The console's client of the services' HTTP APIs (``requests``, short timeouts), with the
key minted for the logged-in user. Errors come back as :class:`ApiError` with the API's field
errors, for the page to show next to its fields."""
from __future__ import annotations

import os

import requests

from aftersales.config import http_address

TIMEOUT = (2.0, 5.0)     # connect, read (seconds)


class ApiError(Exception):
    def __init__(self, status: int, message: str, errors: list[dict] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or []

    def field_errors(self) -> dict[str, str]:
        return {e.get("field", ""): e.get("message", "") for e in self.errors}


def base_url(service: str, env=os.environ) -> str:
    """``CONSOLE_<SERVICE>_URL``, else the service's own ``<SERVICE>_HTTP`` (a wildcard bind
    address is reached on the loopback)."""
    explicit = env.get(f"CONSOLE_{service.upper()}_URL")
    if explicit:
        return explicit.rstrip("/")
    host, _, port = http_address(service, env).rpartition(":")
    if host in ("0.0.0.0", "", "::", "[::]"):
        host = "127.0.0.1"
    return f"http://{host}:{port}"


class ServiceClient:
    def __init__(self, key: str, urls: dict[str, str] | None = None, session=None):
        self._key = key
        self._urls = urls or {}
        self._http = session or requests

    def url(self, service: str, path: str) -> str:
        return (self._urls.get(service) or base_url(service)) + path

    def get(self, service: str, path: str, params: dict | None = None) -> dict:
        return self._call("GET", service, path, params=params)

    def post(self, service: str, path: str, body: dict) -> dict:
        return self._call("POST", service, path, json=body)

    def _call(self, method, service, path, **kw) -> dict:
        try:
            resp = self._http.request(method, self.url(service, path), timeout=TIMEOUT,
                                      headers={"Authorization": f"Bearer {self._key}"}, **kw)
        except requests.RequestException as exc:
            raise ApiError(503, f"{service} is unreachable ({type(exc).__name__})") from None
        try:
            doc = resp.json()
        except ValueError:
            doc = {}
        if resp.status_code >= 400:
            raise ApiError(resp.status_code, str(doc.get("error") or resp.reason),
                           doc.get("errors") if isinstance(doc.get("errors"), list) else None)
        return doc
