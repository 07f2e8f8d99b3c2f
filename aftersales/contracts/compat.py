"""The compatibility guard: what changed incompatibly between a committed schema snapshot
(``docs/schemas/<type>.v<version>.json``) and the schema the model gives today.

An event version is a promise to its consumers and to whoever replays old messages: once
published, its schema may only grow by optional fields. Incompatible, each named with the
field's path (``customer.phone``, ``parts_used[].sku``):

- a field removed;
- a field's type changed: its set of JSON types (``null`` included: a field that becomes, or
  stops being, nullable is retyped), an enum or const value removed, a field newly restricted
  to a set of values, its ``format`` changed (added, removed or another);
- a new required field;
- a field that became required.

Compatible: a new optional field, a field no longer required, an enum value added (or the
restriction lifted), descriptions, titles, defaults and bounds (``minLength``, ``maximum``…).
Nested objects (``$ref`` to a definition, ``anyOf`` alternatives, ``allOf`` parts merged) and array items are compared
field by field. Both schemas are standalone: their ``$ref`` point into their own document.
"""
from __future__ import annotations

from typing import Any

ANY = "any"   # a schema without a type (pydantic's ``Any``) accepts every JSON type


def _resolve(root: dict, node: dict, seen: frozenset = frozenset()) -> dict:
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return node
    if not ref.startswith("#/") or ref in seen:
        raise ValueError(f"cannot compare a schema with the reference {ref!r}")
    target: Any = root
    for part in ref[2:].split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return _resolve(root, merged, seen | {ref})


def _alternatives(root: dict, node: dict) -> list[dict]:
    """The node as its flat list of alternatives (``anyOf``/``oneOf`` unfolded, ``$ref``
    resolved; a ``type`` list split into one alternative per type)."""
    node = _resolve(root, node)
    if "allOf" in node:          # pydantic wraps a described $ref so: merge the parts
        merged = {k: v for k, v in node.items() if k != "allOf"}
        for part in node["allOf"]:
            merged = {**_resolve(root, part), **merged}
        return _alternatives(root, merged)
    for key in ("anyOf", "oneOf"):
        if key in node:
            rest = {k: v for k, v in node.items() if k != key}
            return [alt for sub in node[key] for alt in _alternatives(root, {**rest, **sub})]
    if isinstance(node.get("type"), list):
        return [{**node, "type": t} for t in node["type"]]
    return [node]


def _type_of(alt: dict) -> str:
    if "type" in alt:
        return alt["type"]
    if "const" in alt or "enum" in alt:
        values = [alt["const"]] if "const" in alt else alt["enum"]
        kinds = {_json_type(v) for v in values}
        return kinds.pop() if len(kinds) == 1 else ANY
    if "properties" in alt:
        return "object"
    if "items" in alt:
        return "array"
    return ANY


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _values(alts: list[dict]) -> set | None:
    """The values the (non-null) alternatives are restricted to, None when unrestricted."""
    out: set = set()
    for alt in alts:
        if "const" in alt:
            out.add(_hashable(alt["const"]))
        elif "enum" in alt:
            out.update(_hashable(v) for v in alt["enum"])
        else:
            return None
    return out


def _hashable(value: Any) -> Any:
    return repr(value) if isinstance(value, (list, dict)) else value


def _show(values) -> str:
    return ", ".join(sorted(map(repr, values)))


def _field(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def compare(before: dict, after: dict) -> list[str]:
    """Every incompatible change from ``before`` to ``after`` (empty: compatible)."""
    return _compare(before, before, after, after, "")


def _compare(broot: dict, b: dict, aroot: dict, a: dict, path: str) -> list[str]:
    b_alts, a_alts = _alternatives(broot, b), _alternatives(aroot, a)
    b_types = {_type_of(x) for x in b_alts}
    a_types = {_type_of(x) for x in a_alts}
    where = f"`{path}`" if path else "the schema"
    changes: list[str] = []
    if ANY not in a_types and b_types != a_types:
        changes.append(f"{where}: type changed from {' | '.join(sorted(b_types))} "
                       f"to {' | '.join(sorted(a_types))}")
    b_vals = _values([x for x in b_alts if _type_of(x) != "null"])
    a_vals = _values([x for x in a_alts if _type_of(x) != "null"])
    if a_vals is not None and b_vals is None:
        changes.append(f"{where}: now restricted to the values {_show(a_vals)}")
    elif a_vals is not None and b_vals - a_vals:
        changes.append(f"{where}: enum values removed: {_show(b_vals - a_vals)}")
    b_fmt = {x.get("format") for x in b_alts if _type_of(x) == "string"}
    a_fmt = {x.get("format") for x in a_alts if _type_of(x) == "string"}
    if b_fmt and a_fmt and b_fmt != a_fmt:
        show = lambda fs: " | ".join(sorted(f or "(none)" for f in fs))  # noqa: E731
        changes.append(f"{where}: format changed from {show(b_fmt)} to {show(a_fmt)}")
    b_obj = [x for x in b_alts if _type_of(x) == "object"]
    a_obj = [x for x in a_alts if _type_of(x) == "object"]
    if b_obj and a_obj:
        changes += _compare_objects(broot, b_obj, aroot, a_obj, path)
    b_arr = [x for x in b_alts if _type_of(x) == "array" and "items" in x]
    a_arr = [x for x in a_alts if _type_of(x) == "array" and "items" in x]
    if b_arr and a_arr:
        changes += _compare(broot, {"anyOf": [x["items"] for x in b_arr]},
                            aroot, {"anyOf": [x["items"] for x in a_arr]}, f"{path}[]")
    return changes


def _props(alts: list[dict]) -> tuple[dict, set]:
    props: dict = {}
    required: set | None = None
    for alt in alts:
        props.update(alt.get("properties", {}))
        req = set(alt.get("required", []))
        required = req if required is None else required & req
    return props, required or set()


def _compare_objects(broot: dict, b_alts: list[dict], aroot: dict, a_alts: list[dict],
                     path: str) -> list[str]:
    b_props, b_req = _props(b_alts)
    a_props, a_req = _props(a_alts)
    changes: list[str] = []
    for name, sub in b_props.items():
        field = _field(path, name)
        if name not in a_props:
            changes.append(f"`{field}`: field removed")
            continue
        if name in a_req and name not in b_req:
            changes.append(f"`{field}`: became required")
        changes += _compare(broot, sub, aroot, a_props[name], field)
    for name in a_props:
        if name not in b_props and name in a_req:
            changes.append(f"`{_field(path, name)}`: new required field")
    return changes


def compare_snapshots(committed: dict[str, dict], current: dict[str, dict]) -> dict[str, list[str]]:
    """File name → its incompatible changes, for every committed snapshot that changed
    incompatibly or is no longer generated (a version must not disappear silently)."""
    out: dict[str, list[str]] = {}
    for name, before in sorted(committed.items()):
        if name not in current:
            out[name] = ["no longer generated: the event version is not registered any more"]
            continue
        changes = compare(before, current[name])
        if changes:
            out[name] = changes
    return out


def explain(problems: dict[str, list[str]]) -> str:
    """The guard's message: what changed, per file, and what to do instead."""
    lines = []
    for name, changes in problems.items():
        lines.append(f"docs/schemas/{name} changed incompatibly:")
        lines += [f"  - {c}" for c in changes]
        if ".v" in name:
            lines.append("  add a new version instead (a new schema class `…V<n+1>` and its line "
                         "in the producer's SPECS table); the published version stays as it is")
        else:
            lines.append("  this contract has no version: every consumer or integrator would "
                         "break; change it compatibly (new fields optional)")
    return "\n".join(lines)
