"""What the engineer's pages need beyond JSON calls: a file forwarded to dispatch as a
multipart form, and an image's bytes read back (with the user's key, never the browser's)."""
from __future__ import annotations

from dataclasses import dataclass

import requests

from .api import TIMEOUT, ApiError, ServiceClient


@dataclass(frozen=True)
class Image:
    status: int
    data: bytes
    content_type: str


class EngineerClient(ServiceClient):
    def upload(self, service: str, path: str, field: str, filename: str, stream,
               mimetype: str, fields: dict | None = None) -> dict:
        """POST ``stream`` as the multipart file ``field`` (with the text ``fields``)."""
        files = {field: (filename or field, stream, mimetype or "application/octet-stream")}
        return self._call("POST", service, path, files=files, data=fields or {})

    def image(self, service: str, path: str) -> Image:
        """An image's bytes and content type; ApiError for an error answer."""
        try:
            resp = self._http.request("GET", self.url(service, path), timeout=TIMEOUT,
                                      headers={"Authorization": f"Bearer {self._key}"})
        except requests.RequestException as exc:
            raise ApiError(503, f"{service} is unreachable ({type(exc).__name__})") from None
        if resp.status_code >= 400:
            try:
                message = str(resp.json().get("error") or resp.reason)
            except ValueError:
                message = resp.reason or "error"
            raise ApiError(resp.status_code, message)
        return Image(resp.status_code, resp.content,
                     resp.headers.get("Content-Type", "application/octet-stream"))
