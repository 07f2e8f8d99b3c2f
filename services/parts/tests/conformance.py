"""Whether an answer of the parts service is what its OpenAPI document says: a status the
route lists, the documented content type and a body valid against the documented schema
(what Schemathesis checks, here for every call of parts' integration tests)."""
from __future__ import annotations

import re
from functools import lru_cache

from jsonschema import Draft202012Validator

from aftersales.openapi import document
from services.parts.service import PartsService


@lru_cache(maxsize=None)
def _templates() -> list[tuple[re.Pattern, str]]:
    paths = document(PartsService)["paths"]
    return [(re.compile("^" + re.sub(r"{[^}]+}", "[^/]+", p) + "$"), p) for p in paths]


def operation(method: str, path: str) -> dict:
    bare = path.split("?", 1)[0]
    found = [t for pattern, t in _templates() if pattern.match(bare)]
    found.sort(key=lambda t: t.count("{"))      # /returns/x/inspect before /returns/{id}
    assert found, f"{method} {bare} is not in the OpenAPI document"
    return document(PartsService)["paths"][found[0]][method.lower()]


@lru_cache(maxsize=None)
def _validator(ref: str) -> Draft202012Validator:
    root = {"$ref": ref, "components": document(PartsService)["components"]}
    return Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)


def conforms(method: str, path: str, response) -> None:
    op = operation(method, path)
    documented = op["responses"].get(str(response.status_code))
    assert documented is not None, (
        f"{method} {path} answered {response.status_code}, not in the document "
        f"({', '.join(op['responses'])}): {response.text[:500]}")
    ctype = response.headers.get("Content-Type", "").split(";")[0].strip()
    content = documented.get("content", {})
    assert ctype in content, f"{method} {path}: {ctype} is not documented ({', '.join(content)})"
    schema = content[ctype]["schema"]
    if ctype == "application/json" and "$ref" in schema:
        errors = sorted(_validator(schema["$ref"]).iter_errors(response.json()), key=str)
        assert not errors, f"{method} {path} ({response.status_code}) does not match " \
            f"{schema['$ref']}: " + "; ".join(
                f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5])
