"""The compatibility guard: the committed snapshots in docs/schemas/ against the models, the
comparison on hand-made before/after schemas, and events-doc refusing an incompatible change."""
from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel

from aftersales import asyncapi, eventsdoc
from aftersales.contracts.compat import compare, compare_snapshots, explain

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def test_no_published_event_version_changed_incompatibly():
    problems = eventsdoc.snapshot_problems(DOCS)
    assert not problems, "\n" + explain(problems)


def test_every_event_version_has_a_committed_snapshot():
    missing = set(asyncapi.schema_files()) - {p.name for p in (DOCS / "schemas").glob("*.json")}
    assert not missing, f"no snapshot for {sorted(missing)}: run `python -m aftersales.eventsdoc`"


# --------------------------------------------------------------------------------------
# The comparison, on hand-made schemas
# --------------------------------------------------------------------------------------
BEFORE = {
    "type": "object",
    "properties": {
        "ticket_no": {"type": "string"},
        "count": {"type": "integer", "minimum": 1},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        "priority": {"type": "string", "enum": ["A", "B", "C"]},
        "at": {"type": "string", "format": "date-time"},
        "role": {"type": "string", "const": "supervisor"},
        "label": {"type": "string"},
        "customer": {"$ref": "#/definitions/Customer"},
        "lines": {"type": "array", "items": {"$ref": "#/definitions/Line"}},
    },
    "required": ["ticket_no", "count", "priority", "at", "customer", "lines"],
    "definitions": {
        "Customer": {"type": "object", "properties": {"name": {"type": "string"},
                                                      "phone": {"type": "string"}},
                     "required": ["name", "phone"]},
        "Line": {"type": "object", "properties": {"sku": {"type": "string"},
                                                  "quantity": {"type": "integer"}},
                 "required": ["sku", "quantity"]},
    },
}


def _after(change) -> dict:
    after = copy.deepcopy(BEFORE)
    change(after)
    return after


def _props(s):
    return s["properties"]


@pytest.mark.parametrize("change, expected", [
    (lambda s: _props(s).pop("count"), ["`count`: field removed"]),
    (lambda s: _props(s).pop("note"), ["`note`: field removed"]),       # optional ones too
    (lambda s: _props(s).update(count={"type": "string"}),
     ["`count`: type changed from integer to string"]),
    (lambda s: _props(s).update(note={"type": "string"}),
     ["`note`: type changed from null | string to string"]),           # no longer nullable
    (lambda s: _props(s).update(label={"anyOf": [{"type": "string"}, {"type": "null"}]}),
     ["`label`: type changed from string to null | string"]),          # became nullable
    (lambda s: _props(s).update(priority={"type": "string", "enum": ["A", "B"]}),
     ["`priority`: enum values removed: 'C'"]),
    (lambda s: _props(s).update(label={"type": "string", "enum": ["x", "y"]}),
     ["`label`: now restricted to the values 'x', 'y'"]),
    (lambda s: _props(s).update(role={"type": "string", "const": "manager"}),
     ["`role`: enum values removed: 'supervisor'"]),
    (lambda s: _props(s).update(at={"type": "string", "format": "date"}),
     ["`at`: format changed from date-time to date"]),
    (lambda s: _props(s).update(at={"type": "string"}),
     ["`at`: format changed from date-time to (none)"]),
    (lambda s: (_props(s).update(branch={"type": "string"}), s["required"].append("branch")),
     ["`branch`: new required field"]),
    (lambda s: s["required"].append("label"), ["`label`: became required"]),
    (lambda s: _props(s["definitions"]["Customer"]).pop("phone"), ["`customer.phone`: field removed"]),
    (lambda s: _props(s["definitions"]["Line"]).update(quantity={"type": "number"}),
     ["`lines[].quantity`: type changed from integer to number"]),
    (lambda s: (_props(s).update(customer={"allOf": [{"$ref": "#/definitions/Customer"}]}),
                _props(s["definitions"]["Customer"]).pop("name")),
     ["`customer.name`: field removed"]),
    (lambda s: _props(s).update(lines={"type": "array", "items": {"type": "string"}}),
     ["`lines[]`: type changed from object to string"]),
])
def test_each_incompatible_change_is_detected_and_named(change, expected):
    assert compare(BEFORE, _after(change)) == expected


def test_several_changes_are_all_listed():
    def change(s):
        _props(s).pop("count")
        _props(s).update(priority={"type": "string", "enum": ["A"]})
        s["required"].append("label")
    assert compare(BEFORE, _after(change)) == [
        "`count`: field removed", "`priority`: enum values removed: 'B', 'C'",
        "`label`: became required"]


@pytest.mark.parametrize("change", [
    lambda s: _props(s).update(extra={"anyOf": [{"type": "string"}, {"type": "null"}]}),
    lambda s: _props(s["definitions"]["Customer"]).update(email={"type": "string"}),
    lambda s: _props(s).update(priority={"type": "string", "enum": ["A", "B", "C", "D"]}),
    lambda s: _props(s).update(priority={"type": "string"}),          # restriction lifted
    lambda s: s["required"].remove("count"),                          # no longer required
    lambda s: _props(s).update(count={"type": "integer", "minimum": 0, "description": "d"}),
    lambda s: _props(s).update(label={"type": "string", "maxLength": 5, "title": "L"}),
    lambda s: _props(s).update(customer={"allOf": [{"$ref": "#/definitions/Customer"}]}),
    lambda s: _props(s).update(label={}),                             # any JSON value now
])
def test_compatible_changes_are_accepted(change):
    assert compare(BEFORE, _after(change)) == []


def test_identical_schemas_and_real_models():
    assert compare(BEFORE, copy.deepcopy(BEFORE)) == []

    class OldV1(BaseModel):
        ticket_no: str
        kind: Literal["a", "b"]
        at: datetime

    class NewOptional(BaseModel):
        ticket_no: str
        kind: Literal["a", "b", "c"]
        at: datetime
        note: str | None = None

    class Broken(BaseModel):
        ticket_no: int
        kind: Literal["a"]
        note: str

    old = asyncapi.standalone(OldV1, "old")
    assert compare(old, asyncapi.standalone(NewOptional, "new")) == []
    assert compare(old, asyncapi.standalone(Broken, "broken")) == [
        "`ticket_no`: type changed from string to integer", "`kind`: enum values removed: 'b'",
        "`at`: field removed", "`note`: new required field"]


def test_a_snapshot_no_longer_generated_is_a_problem_and_the_message_says_what_to_do():
    problems = compare_snapshots({"x.v1.json": BEFORE, "gone.v1.json": BEFORE, "envelope.json": BEFORE},
                                 {"x.v1.json": _after(lambda s: _props(s).pop("count")),
                                  "envelope.json": BEFORE})
    assert problems == {"gone.v1.json": ["no longer generated: the event version is not "
                                         "registered any more"],
                        "x.v1.json": ["`count`: field removed"]}
    text = explain(problems)
    assert "docs/schemas/x.v1.json changed incompatibly:\n  - `count`: field removed" in text
    assert "add a new version" in text


# --------------------------------------------------------------------------------------
# events-doc refuses to overwrite a snapshot with an incompatible change
# --------------------------------------------------------------------------------------
@pytest.fixture()
def docs(tmp_path) -> Path:
    for name, text in eventsdoc.machine_readable().items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def _edit(path: Path, change) -> str:
    schema = json.loads(path.read_text(encoding="utf-8"))
    change(schema)
    text = json.dumps(schema, ensure_ascii=False, indent=2) + "\n"
    path.write_text(text, encoding="utf-8")
    return text


def test_events_doc_refuses_an_incompatible_change_and_writes_nothing(docs, capsys):
    # the committed snapshot had a field the model no longer has: the model removed it
    snapshot = docs / "schemas" / "ticket_opened.v1.json"
    text = _edit(snapshot, lambda s: (s["properties"].update(legacy={"type": "string"}),
                                      s["required"].append("legacy")))
    (docs / "asyncapi.json").write_text("{}", encoding="utf-8")
    assert eventsdoc.write_machine_readable(docs) == 1
    err = capsys.readouterr().err
    assert "docs/schemas/ticket_opened.v1.json changed incompatibly:\n  - `legacy`: field removed" in err
    assert "add a new version" in err
    assert snapshot.read_text(encoding="utf-8") == text
    assert (docs / "asyncapi.json").read_text(encoding="utf-8") == "{}"
    assert eventsdoc.write_machine_readable(docs, check=True) == 1


def test_events_doc_overwrites_a_compatible_change_and_then_checks_clean(docs, capsys):
    # the model gained an optional field since the snapshot was taken
    snapshot = docs / "schemas" / "ticket_opened.v1.json"
    _edit(snapshot, lambda s: s["properties"].pop("split_from"))
    assert eventsdoc.write_machine_readable(docs, check=True) == 1
    assert "docs/schemas/ticket_opened.v1.json is out of date" in capsys.readouterr().err
    assert eventsdoc.write_machine_readable(docs) == 0
    assert eventsdoc.write_machine_readable(docs, check=True) == 0
    assert "split_from" in json.loads(snapshot.read_text(encoding="utf-8"))["properties"]
