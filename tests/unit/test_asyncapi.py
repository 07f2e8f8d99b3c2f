"""docs/asyncapi.json and docs/schemas/: generated from the contracts, valid against the vendored
AsyncAPI 3.0.0 JSON Schema (offline) and complete (every event version, every queue)."""
from __future__ import annotations

import copy
import hashlib
import json
import os
from pathlib import Path

import pytest

from aftersales import asyncapi, registry
from aftersales.contracts import topology
from aftersales.contracts.envelope import Envelope
from aftersales.contracts.events import EVENTS, RepairRequested, spec_for
from aftersales.eventsdoc import machine_readable
from tests.support.data import repair_request, ticket_opened

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
VENDORED = ROOT / "deploy" / "schemas" / "asyncapi-3.0.0.json"


def _jsonschema():
    try:
        import jsonschema
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("jsonschema is not installed (requirements.txt)", pytrace=False)
        pytest.skip("jsonschema is not installed")
    return jsonschema


def _offline(uri: str):
    raise AssertionError(f"the schema must resolve every $ref locally, not fetch {uri}")


def _validator(schema: dict):
    """A Draft 7 validator whose ``$ref`` resolve inside ``schema`` only (no network)."""
    jsonschema = _jsonschema()
    try:
        from referencing import Registry
    except ImportError:                      # jsonschema < 4.18
        resolver = jsonschema.RefResolver.from_schema(
            schema, handlers={"http": _offline, "https": _offline})
        return jsonschema.Draft7Validator(schema, resolver=resolver)
    return jsonschema.Draft7Validator(schema, registry=Registry(retrieve=_offline))


def _errors(validator, instance) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}"
            for e in validator.iter_errors(instance)]


@pytest.fixture(scope="module")
def document() -> dict:
    return asyncapi.document()


@pytest.fixture(scope="module")
def asyncapi_validator():
    return _validator(json.loads(VENDORED.read_text(encoding="utf-8")))


def test_docs_asyncapi_json_and_schemas_are_generated_from_the_contracts():
    files = machine_readable()
    stale = [name for name, text in files.items()
             if not (DOCS / name).exists() or (DOCS / name).read_text(encoding="utf-8") != text]
    assert not stale, f"out of date: {stale}: run `python -m aftersales.eventsdoc`"
    extra = {f"schemas/{p.name}" for p in (DOCS / "schemas").glob("*")} - set(files)
    assert not extra, f"docs/schemas/ holds files nothing generates: {sorted(extra)}"


def test_the_vendored_schema_is_the_pinned_one():
    readme = (VENDORED.parent / "README.md").read_text(encoding="utf-8")
    digest = hashlib.sha256(VENDORED.read_bytes()).hexdigest()
    assert digest in readme, "deploy/schemas/asyncapi-3.0.0.json differs from the pinned copy"
    assert "Apache-2.0" in readme and "asyncapi/spec-json-schemas" in readme
    schema = json.loads(VENDORED.read_text(encoding="utf-8"))
    assert schema["properties"]["asyncapi"]["const"] == "3.0.0"
    refs = set(_refs(schema, skip="examples"))    # the spec's examples hold sample documents
    assert refs and all(r.startswith("#/definitions/") for r in refs), \
        sorted(r for r in refs if not r.startswith("#/definitions/"))


def test_the_document_validates_against_the_asyncapi_3_schema(document, asyncapi_validator):
    committed = json.loads((DOCS / "asyncapi.json").read_text(encoding="utf-8"))
    assert _errors(asyncapi_validator, committed) == []
    assert _errors(asyncapi_validator, document) == []


@pytest.mark.parametrize("break_it, where", [
    (lambda d: d["operations"]["intake.send.ticket_opened"].update(action="publish"), "action"),
    (lambda d: d["channels"]["queue.aftersales.parts.events"]["bindings"]["amqp"]
     .__setitem__("is", "topic"), "the amqp binding's is"),
    (lambda d: d["channels"]["intake.events.ticket_opened"].__setitem__("queue", "x"),
     "a channel's unknown field"),
    (lambda d: d["components"]["schemas"]["Envelope"].update(type=5), "type"),
    (lambda d: d.update(asyncapi="2.6.0"), "asyncapi"),
])
def test_the_validation_is_not_vacuous(document, asyncapi_validator, break_it, where):
    broken = copy.deepcopy(document)
    break_it(broken)
    assert _errors(asyncapi_validator, broken), f"a document broken at {where} validated"


def _refs(node, skip: str | None = None):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                yield v
            elif k != skip:
                yield from _refs(v, skip)
    elif isinstance(node, list):
        for v in node:
            yield from _refs(v, skip)


def test_every_reference_of_the_document_points_at_something(document):
    refs = set(_refs(document))
    assert refs
    for ref in refs:
        assert ref.startswith("#/"), ref
        asyncapi.resolve(document, ref)        # KeyError when it points at nothing
    for op_id, op in document["operations"].items():   # an operation's messages are its channel's
        channel = op["channel"]["$ref"]
        assert all(m["$ref"].startswith(channel + "/messages/") for m in op["messages"]), op_id


def test_every_event_version_is_a_message_with_the_envelope_as_payload(document):
    messages = document["components"]["messages"]
    schemas = document["components"]["schemas"]
    for (type_, version), spec in EVENTS.items():
        message = messages[f"{type_}.v{version}"]
        envelope_ref, overrides = message["payload"]["allOf"]
        assert asyncapi.resolve(document, envelope_ref["$ref"]) == schemas["Envelope"]
        assert overrides["properties"]["type"] == {"const": type_}
        assert overrides["properties"]["version"] == {"const": version}
        data = asyncapi.resolve(document, overrides["properties"]["data"]["$ref"])
        assert data["title"] == spec.schema.__name__
        assert message["correlationId"]["location"] == "$message.payload#/event_id"
        channel = document["channels"][f"{spec.exchange}.{type_}"]
        assert channel["address"] == type_
        assert channel["bindings"]["amqp"]["exchange"] == {
            "name": spec.exchange, "type": "topic", "durable": True, "autoDelete": False,
            "vhost": "/"}
        assert f"{type_}.v{version}" in channel["messages"]
        send = document["operations"][f"{spec.source}.send.{type_}"]
        assert send["action"] == "send"
    assert messages["repair_requested"]["payload"] == {"$ref": "#/components/schemas/RepairRequested"}
    assert len(messages) == len(EVENTS) + 1


def test_every_queue_of_the_topology_is_a_channel_with_a_receive_operation(document):
    channels, operations = document["channels"], document["operations"]
    for q in topology.queues():
        channel = channels[f"queue.{q.name}"]
        assert channel["address"] == q.name
        assert channel["bindings"]["amqp"]["is"] == "queue"
        assert channel["bindings"]["amqp"]["queue"]["name"] == q.name
        for b in q.bindings:
            assert f"`{b.exchange}` → `{b.routing_key}`" in channel["description"]
            assert f"`{q.name}` ({q.service})" in channels[f"{b.exchange}.{b.routing_key}"]["description"]
        assert channel["x-parking-queue"] == topology.parking_queue(q.service)
        assert channel["x-retry-queues"] == [topology.retry_queue(q.name, d)
                                             for d in asyncapi.DEFAULT_RETRY_DELAYS_MS]
        receive = operations[f"{q.service}.receive.{q.name}"]
        assert receive["action"] == "receive"
        assert receive["channel"] == {"$ref": f"#/channels/queue.{q.name}"}
        bound = {m["$ref"].rsplit("/", 1)[-1] for m in receive["messages"]}
        assert {m.split(".v")[0] for m in bound} == {b.routing_key for b in q.bindings}
    for service in registry.SERVICES:
        assert channels[f"queue.{topology.parking_queue(service)}"]["bindings"]["amqp"]["is"] == "queue"
    receives = [o for o in operations.values() if o["action"] == "receive"]
    assert len(receives) == len(topology.queues())


def test_the_examples_are_valid_messages(document):
    RepairRequested.model_validate(asyncapi.REPAIR_REQUESTED_EXAMPLE)
    for (type_, version), example in asyncapi.EVENT_EXAMPLES.items():
        Envelope.model_validate(example)
        spec_for(type_, version).schema.model_validate(example["data"])
        assert document["components"]["messages"][f"{type_}.v{version}"]["examples"][0]["payload"] \
            == example
    assert "上海" in json.dumps(document, ensure_ascii=False)


def _schema(name: str) -> dict:
    return json.loads((DOCS / "schemas" / name).read_text(encoding="utf-8"))


def test_the_schema_files_are_draft_07_and_accept_real_messages():
    jsonschema = _jsonschema()
    for path in sorted((DOCS / "schemas").glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        jsonschema.Draft7Validator.check_schema(schema)
        assert "$defs" not in schema and "#/$defs/" not in json.dumps(schema), path.name
    checker = jsonschema.Draft7Validator.FORMAT_CHECKER
    request = repair_request()
    assert _errors(_validator(_schema("repair_requested.json")), request) == []
    env = ticket_opened("SH-20261122-0001").to_json_dict()
    assert _errors(_validator(_schema("envelope.json")), env) == []
    data_validator = jsonschema.Draft7Validator(_schema("ticket_opened.v1.json"), format_checker=checker)
    assert _errors(data_validator, env["data"]) == []
    assert _errors(data_validator, {**env["data"], "priority": "Z"}), "an unknown priority validated"
    bad = _errors(_validator(_schema("repair_requested.json")), repair_request(customer=None))
    assert any("customer" in e for e in bad)


def test_there_is_one_schema_file_per_event_version():
    names = set(asyncapi.schema_files())
    assert names == {f"{t}.v{v}.json" for t, v in EVENTS} | {"envelope.json", "repair_requested.json"}
