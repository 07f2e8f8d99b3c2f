"""OpenAPI 3.1 documents of the services' HTTP APIs, generated from the code itself: the
``@http`` routes of the nameko class, what ``@json_api`` says of each (request body, query,
response models, the errors it may answer), the role table of :mod:`aftersales.access` and the
pydantic models' JSON Schemas. No hand-kept copy: a route, a field or a role changes here when
it changes in the code.

Served by every service at ``/openapi.json`` (and as a page at ``/docs``); written to
``docs/openapi/<service>.json`` by ``make docs``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import models_json_schema

from . import access

OPENAPI_VERSION = "3.1.0"
REF = "#/components/schemas/{model}"

ERROR_TEXT = {
    400: "The body is not a JSON object within the bounds (size, depth, numbers); `errors` "
         "names `(body)` or the fields beyond them.",
    401: "No API key, or a key that is malformed, expired, signed with another secret or "
         "revoked.",
    403: "The key's role may not call this route, or the key's branch may not act on this "
         "branch.",
    404: "No such resource (or not visible to this key's branch).",
    409: "The resource is not in a state that allows this.",
    410: "The resource existed but is no longer available.",
    422: "Invalid input: `errors` names every field and what is wrong with it.",
    503: "Degraded: a check failed (the body says which).",
}


class FieldErrorDoc(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    """Every error answer of the platform: a sentence, and for bad input every field."""
    model_config = ConfigDict(title="Error", json_schema_extra={"examples": [
        {"error": "invalid request",
         "errors": [{"field": "customer.contact_name", "message": "is required"}]}]})
    error: str
    errors: list[FieldErrorDoc] | None = None
    allowed: list[str] | None = None


@dataclass(frozen=True)
class RouteDoc:
    """What a route takes and answers, for the document (set by ``json_api`` or
    :func:`documented`)."""
    route: str | None = None
    summary: str | None = None
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    also: tuple[int, ...] = ()      # other success statuses with the same body (201 / 200)
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    media: dict[str, dict] = field(default_factory=dict)   # other answers (text/csv, HTML)


def documented(**kwargs):
    """Describe a route that does not go through ``json_api`` (health, metrics, pages)."""
    def deco(fn):
        fn.openapi = RouteDoc(**kwargs)
        return fn
    return deco


def _path(url: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([A-Za-z_][A-Za-z0-9_]*)>", r"{\1}", url)


def routes(service_cls) -> list[tuple[str, str, Any, RouteDoc]]:
    """(method, path, function, RouteDoc) of every ``@http`` route of the class."""
    out = []
    for name in dir(service_cls):
        fn = getattr(service_cls, name, None)
        for ep in getattr(fn, ENTRYPOINT_EXTENSIONS_ATTR, ()) or ():
            method, url = getattr(ep, "method", None), getattr(ep, "url", None)
            if not method or not url:
                continue
            doc = getattr(fn, "openapi", None) or RouteDoc()
            out.append((method.upper(), doc.route or _path(url), fn, doc))
    return sorted(out, key=lambda r: (r[1], r[0]))


def _summary(fn, doc: RouteDoc) -> tuple[str, str]:
    text = (doc.summary or (fn.__doc__ or "")).strip()
    first, _, rest = text.partition("\n")
    return first.strip() or fn.__name__.replace("_", " "), " ".join(rest.split())


def _roles(service: str, method: str, path: str):
    roles = access.rule(service, method, path)
    if roles in (None, access.PUBLIC):
        return None
    return ["admin", *roles]


def _error(status: int) -> dict:
    if status == 503:            # /health: the same document as its 200
        return {"description": ERROR_TEXT[503],
                "content": {"application/json": {"schema": {"type": "object"}}}}
    return {"description": ERROR_TEXT.get(status, "Error."),
            "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}}


def _parameters(path: str, query: type[BaseModel] | None, schemas: dict) -> list[dict]:
    params = [{"name": p, "in": "path", "required": True, "schema": {"type": "string",
                                                                     "minLength": 1}}
              for p in re.findall(r"{([^}]+)}", path)]
    if query is not None:
        js = query.model_json_schema(ref_template=REF)
        schemas.update(js.pop("$defs", {}))
        required = set(js.get("required", ()))
        for name, prop in js.get("properties", {}).items():
            p = {"name": name, "in": "query", "required": name in required, "schema": prop}
            if prop.get("description"):
                p["description"] = prop["description"]
            params.append(p)
    return params


def _operation(service: str, method: str, path: str, fn, doc: RouteDoc, keys: dict,
               schemas: dict) -> dict:
    summary, description = _summary(fn, doc)
    op: dict[str, Any] = {"operationId": f"{service}_{fn.__name__}", "summary": summary,
                          "tags": [service]}
    roles = _roles(service, method, path)
    if description:
        op["description"] = description
    params = _parameters(path, doc.query, schemas)
    if params:
        op["parameters"] = params
    if doc.body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": {"$ref": REF.format(model=keys[(doc.body, "validation")])}}}}
    ok: dict[str, Any] = {"description": "Success."}
    content: dict[str, Any] = {}
    if doc.response is not None:
        content["application/json"] = {
            "schema": {"$ref": REF.format(model=keys[(doc.response, "serialization")])}}
    content.update(doc.media)
    if content:
        ok["content"] = content
    responses: dict[str, Any] = {str(doc.status): ok}
    for other in doc.also:
        responses[str(other)] = ok
    errors = set(doc.errors)
    if roles is not None:
        errors |= {401, 403}
        op["security"] = [{"apiKey": []}]
        op["x-roles"] = roles
        op["description"] = (op.get("description", "") + " Roles: " + ", ".join(roles)
                             + ".").strip()
    else:
        op["security"] = []
    if doc.body is not None:
        errors |= {400, 422}
    if doc.query is not None:
        errors |= {422}
    if "{" in path:
        errors |= {404}
    for status in sorted(errors):
        responses[str(status)] = _error(status)
    op["responses"] = responses
    return op


@lru_cache(maxsize=None)
def document(service_cls) -> dict:
    """The OpenAPI 3.1 document of one nameko service class."""
    service = service_cls.name
    found = routes(service_cls)
    models = {(m, "validation") for _, _, _, d in found if (m := d.body) is not None}
    models |= {(m, "serialization") for _, _, _, d in found if (m := d.response) is not None}
    models.add((ErrorBody, "serialization"))
    keys, defs = models_json_schema(sorted(models, key=lambda mm: (mm[0].__name__, mm[1])),
                                    ref_template=REF)
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    refs = {k: v["$ref"].rsplit("/", 1)[-1] for k, v in keys.items()}
    schemas["Error"] = schemas.pop(refs[(ErrorBody, "serialization")])
    refs[(ErrorBody, "serialization")] = "Error"
    paths: dict[str, dict] = {}
    for method, path, fn, doc in found:
        paths.setdefault(path, {})[method.lower()] = _operation(
            service, method, path, fn, doc, refs, schemas)
    info = {"title": f"{service} API (售后服务平台)", "version": _version(),
            "description": (service_cls.__doc__ or "").strip() or service}
    return {"openapi": OPENAPI_VERSION, "info": info,
            "servers": [{"url": "/", "description": "this service"}],
            "tags": [{"name": service}],
            "paths": paths,
            "components": {"schemas": dict(sorted(schemas.items())),
                           "securitySchemes": {"apiKey": {
                               "type": "http", "scheme": "bearer", "bearerFormat": "aftersales key",
                               "description": "`Authorization: Bearer <key>`: a key issued with "
                                              "`aftersales keys issue` (branch, role, expiry)."}}}}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("aftersales")
    except PackageNotFoundError:   # pragma: no cover (running from a checkout not installed)
        return "0"
