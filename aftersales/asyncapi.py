"""The machine-readable contracts of the message bus, built from ``aftersales/contracts/``:

- :func:`document`: the AsyncAPI 3.0.0 document (``docs/asyncapi.json``): the broker, a channel
  per exchange and routing key, a channel per queue of the topology (with its retry and parking
  queues explained), a ``send`` operation per published event type, a ``receive`` operation per
  consumer queue, a message per event version (the envelope, ``data`` the event's schema) and
  the phone centers' ``repair_requested`` (not enveloped);
- :func:`schema_files`: one standalone JSON Schema (draft-07) per event version, the envelope's
  and the phone-center request's (``docs/schemas/``), which are also the snapshots the
  compatibility guard (:mod:`aftersales.contracts.compat`) compares with the models.

Pydantic's ``model_json_schema()`` gives the schemas; its ``$defs`` become ``definitions``
(standalone files) or ``components.schemas`` (the AsyncAPI document), the ``$ref`` rewritten.
``aftersales events-doc`` writes both beside docs/events.md (:mod:`aftersales.eventsdoc`).
"""
from __future__ import annotations

import copy
import json
from typing import Any

from pydantic import BaseModel

from . import registry
from .config import DEFAULT_AMQP_URI, retry_delays_ms
from .contracts import topology
from .contracts.envelope import Envelope
from .contracts.events import EVENTS, EventSpec, RepairRequested

DRAFT_07 = "http://json-schema.org/draft-07/schema#"
AMQP_BINDING_VERSION = "0.3.0"
DEFAULT_RETRY_DELAYS_MS = tuple(retry_delays_ms({}))   # AFTERSALES_RETRY_DELAYS_MS's default
ENVELOPE_FILE = "envelope.json"
REPAIR_REQUESTED_FILE = "repair_requested.json"
_GENERATED = ("Generated from aftersales/contracts/ by aftersales/asyncapi.py; a test fails "
              "when it is out of date. Do not edit by hand.")


# --------------------------------------------------------------------------------------
# JSON Schemas from the models
# --------------------------------------------------------------------------------------
def _rewrite_refs(node: Any, prefix: str) -> Any:
    """``node`` with every ``#/$defs/X`` reference turned into ``prefix + X``."""
    if isinstance(node, dict):
        return {k: (prefix + v[len("#/$defs/"):] if k == "$ref" and isinstance(v, str)
                    and v.startswith("#/$defs/") else _rewrite_refs(v, prefix))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_rewrite_refs(v, prefix) for v in node]
    return node


def split_defs(model: type[BaseModel], prefix: str) -> tuple[dict, dict]:
    """The model's schema without ``$defs`` and the ``$defs``, references pointing at
    ``prefix``."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})
    return _rewrite_refs(schema, prefix), _rewrite_refs(defs, prefix)


def standalone(model: type[BaseModel], comment: str) -> dict:
    """One self-contained draft-07 schema: the model's, its nested models in ``definitions``."""
    schema, defs = split_defs(model, "#/definitions/")
    out = {"$schema": DRAFT_07, "$comment": f"{comment} {_GENERATED}", **schema}
    if defs:
        out["definitions"] = defs
    return out


def schema_file(spec: EventSpec) -> str:
    return f"{spec.type}.v{spec.version}.json"


def schema_files() -> dict[str, dict]:
    """File name (in ``docs/schemas/``) → schema: every event version's ``data``, the envelope,
    the phone-center request."""
    files = {ENVELOPE_FILE: standalone(
                Envelope, "The envelope of every event between services; `data` validates "
                          "against `<type>.v<version>.json`."),
             REPAIR_REQUESTED_FILE: standalone(
                RepairRequested, f"The phone centers' request (exchange "
                                 f"`{topology.PHONE_CENTER_EXCHANGE}`, routing key "
                                 f"`{topology.REPAIR_REQUESTED}`), not enveloped.")}
    for spec in _specs():
        files[schema_file(spec)] = standalone(
            spec.schema, f"The `data` of event `{spec.type}` version {spec.version} "
                         f"(exchange `{spec.exchange}`, routing key `{spec.type}`): {spec.summary}")
    return files


# --------------------------------------------------------------------------------------
# Examples (the contracts' own Chinese test data, as docs/intake.md shows it)
# --------------------------------------------------------------------------------------
_CUSTOMER = {"name": "上海宝钢钢构有限公司", "contact_name": "张伟", "phone": "13812345678",
             "email": "zhangwei@example.cn"}
_SITE = {"address": "上海市宝山区富锦路885号3号厂房", "project": "宝山物流园三期厂房",
         "contract_no": "HT-2019-0618"}
_ASSET = {"serial_no": "SH-GJ-2019-0001", "model": "钢结构厂房主体", "component": "屋面檩条"}
_FAULT = {"description": "屋面檩条锈蚀，局部漏水，需要检修", "category": "fault"}

REPAIR_REQUESTED_EXAMPLE = {
    "request_id": "CALL-20261122-000731", "source": "pc-shanghai", "branch": "SH",
    "channel": "phone", "received_at": "2026-11-22T09:30:00+08:00", "customer": _CUSTOMER,
    "site": _SITE, "asset": _ASSET, "fault": _FAULT, "priority": "B"}

# (type, version) → the envelope of an example event
EVENT_EXAMPLES: dict[tuple[str, int], dict] = {
    ("ticket_opened", 1): {
        "event_id": "5f0c6d1e-8a2b-4c3d-9e4f-0a1b2c3d4e5f", "type": "ticket_opened",
        "version": 1, "occurred_at": "2026-11-22T01:30:02Z", "source": "intake",
        "ticket_no": "SH-20261122-0001", "branch": "SH",
        "data": {"ticket_no": "SH-20261122-0001", "request_id": "CALL-20261122-000731",
                 "source": "pc-shanghai", "channel": "phone",
                 "received_at": "2026-11-22T09:30:00+08:00", "priority": "B", "category": "fault",
                 "needs_visit": True, "customer": _CUSTOMER, "site": _SITE, "asset": _ASSET,
                 "fault": _FAULT, "warranty": {"status": "in_warranty", "ends_on": "2027-06-30",
                                               "component_category": "屋面"},
                 "duplicate": False}},
    ("request_rejected", 1): {
        "event_id": "0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a", "type": "request_rejected",
        "version": 1, "occurred_at": "2026-11-22T01:31:00Z", "source": "intake",
        "branch": "SH",
        "data": {"request_id": "CALL-20261122-000732", "source": "pc-shanghai",
                 "errors": [{"field": "customer.phone", "message": "is not a phone number "
                             "(digits, optional leading +, spaces or dashes)"}]}},
}


# --------------------------------------------------------------------------------------
# The AsyncAPI document
# --------------------------------------------------------------------------------------
def _source_order(source: str) -> int:
    return registry.SERVICES.index(source) if source in registry.SERVICES else len(registry.SERVICES)


def _specs() -> list[EventSpec]:
    return sorted(EVENTS.values(), key=lambda s: (_source_order(s.source), s.type, s.version))


def message_id(type_: str, version: int | None = None) -> str:
    return type_ if version is None else f"{type_}.v{version}"


def _exchange(name: str) -> dict:
    return {"name": name, "type": "topic", "durable": True, "autoDelete": False, "vhost": "/"}


def _queue_binding(name: str) -> dict:
    return {"bindings": {"amqp": {
        "is": "queue", "queue": {"name": name, "durable": True, "exclusive": False,
                                 "autoDelete": False, "vhost": "/"},
        "bindingVersion": AMQP_BINDING_VERSION}}}


def _ref(*parts: str) -> dict:
    return {"$ref": "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)}


def _add_schemas(into: dict, model: type[BaseModel]) -> dict:
    """``model``'s schema and its nested models into ``components.schemas`` (a name two
    different schemas claim is refused); returns the reference to it."""
    schema, defs = split_defs(model, "#/components/schemas/")
    for name, sub in {**defs, model.__name__: schema}.items():
        if into.setdefault(name, sub) != sub:
            raise ValueError(f"two different schemas are named {name!r}")
    return _ref("components", "schemas", model.__name__)


_HEADERS = {"type": "object", "description": "AMQP application headers.", "properties": {
    "x-outbox-id": {"type": "integer", "description": "the publisher's outbox row (set by "
                                                      "the outbox relay)"},
    "x-attempts": {"type": "integer", "minimum": 1, "description": "set when a consumer "
                   "retries the message through a delay queue: the attempts so far"}}}


def _event_message(spec: EventSpec, schemas: dict) -> dict:
    data = _add_schemas(schemas, spec.schema)
    message = {
        "name": spec.type, "title": f"{spec.type} v{spec.version}", "summary": spec.summary,
        "contentType": "application/json", "headers": _HEADERS,
        "correlationId": {"description": "`event_id`, also the AMQP `message_id`: consumers "
                                         "are idempotent by it (their inbox)",
                          "location": "$message.payload#/event_id"},
        "payload": {"allOf": [_ref("components", "schemas", "Envelope"), {
            "type": "object", "properties": {
                "type": {"const": spec.type}, "version": {"const": spec.version},
                "source": {"const": spec.source}, "data": data},
            "required": ["data"]}]},
        "bindings": {"amqp": {"contentEncoding": "utf-8", "messageType": spec.type,
                              "bindingVersion": AMQP_BINDING_VERSION}},
        "description": f"The envelope; its `data` is also `docs/schemas/{schema_file(spec)}` "
                       "(a standalone JSON Schema).",
    }
    example = EVENT_EXAMPLES.get((spec.type, spec.version))
    if example:
        message["examples"] = [{"name": f"{spec.type}-zh", "payload": example}]
    return message


def _repair_requested_message(schemas: dict) -> dict:
    return {
        "name": topology.REPAIR_REQUESTED, "title": "repair_requested (phone centers)",
        "summary": "A phone center's repair request, in the integrators' own format (no "
                   "envelope). Intake answers on `intake.events` with `ticket_opened` or "
                   "`request_rejected`; idempotent on (`source`, `request_id`).",
        "contentType": "application/json",
        "correlationId": {"description": "`request_id` (with `source`): intake answers with "
                                         "the same `request_id`",
                          "location": "$message.payload#/request_id"},
        "payload": _add_schemas(schemas, RepairRequested),
        "bindings": {"amqp": {"contentEncoding": "utf-8", "bindingVersion": AMQP_BINDING_VERSION}},
        "description": f"Also `docs/schemas/{REPAIR_REQUESTED_FILE}` (a standalone JSON Schema).",
        "examples": [{"name": "repair_requested-zh", "payload": REPAIR_REQUESTED_EXAMPLE}],
    }


def _routing_key_channel(exchange: str, key: str, messages: list[str]) -> dict:
    bound = [q for q in topology.queues()
             if any(b.exchange == exchange and b.routing_key == key for b in q.bindings)]
    who = "; ".join(f"`{q.name}` ({q.service})" for q in bound) or "none of the platform's"
    return {
        "address": key, "title": f"{exchange} → {key}",
        "description": f"Exchange `{exchange}` (topic, durable), routing key `{key}`. Queues "
                       f"of the platform bound to it: {who}. An integrator binds a durable "
                       f"queue of its own to the exchange with this routing key.",
        "messages": {m: _ref("components", "messages", m) for m in messages},
        "bindings": {"amqp": {"is": "routingKey", "exchange": _exchange(exchange),
                              "bindingVersion": AMQP_BINDING_VERSION}},
    }


def _queue_channel(q: topology.QueueSpec, messages: list[str]) -> dict:
    binds = ", ".join(f"`{b.exchange}` → `{b.routing_key}`" for b in q.bindings)
    retries = ", ".join(f"`{topology.retry_queue(q.name, d)}`" for d in DEFAULT_RETRY_DELAYS_MS)
    return {
        "address": q.name, "title": f"queue {q.name}",
        "description": f"The consumer queue of {q.service} (durable, declared by every service "
                       f"at start-up), bound to {binds}. A message whose handling fails for an "
                       f"unknown reason goes through the delay queues {retries} (one per "
                       f"`AFTERSALES_RETRY_DELAYS_MS`, default shown; message TTL, dead-lettered "
                       f"back to this queue) and is then parked in "
                       f"`{topology.parking_queue(q.service)}`; a bad message is parked at once.",
        "messages": {m: _ref("components", "messages", m) for m in messages},
        **_queue_binding(q.name),
        "x-retry-queues": [topology.retry_queue(q.name, d) for d in DEFAULT_RETRY_DELAYS_MS],
        "x-parking-queue": topology.parking_queue(q.service),
    }


def _parking_channel(service: str) -> dict:
    name = topology.parking_queue(service)
    return {
        "address": name, "title": f"queue {name}",
        "description": f"The parking queue of {service}: a message that cannot be handled is kept "
                       "here with its body and properties and the headers `x-parked-id`, "
                       "`x-parked-reason`, `x-parked-at`, `x-original-queue`, `x-attempts` until "
                       f"an operator replays or purges it (`aftersales parked … --service {service}`).",
        **_queue_binding(name),
    }


def _versions(type_: str) -> list[str]:
    return [message_id(s.type, s.version) for s in _specs() if s.type == type_]


def _channel_id(exchange: str, key: str) -> str:
    return f"{exchange}.{key}"


def _bound_messages(q: topology.QueueSpec) -> list[str]:
    if not q.enveloped:
        return [message_id(topology.REPAIR_REQUESTED)]
    return [m for b in q.bindings for m in _versions(b.routing_key)]


def _operation(action: str, channel: str, messages: list[str], summary: str, amqp: dict) -> dict:
    return {"action": action, "channel": _ref("channels", channel), "summary": summary,
            "messages": [_ref("channels", channel, "messages", m) for m in messages],
            "bindings": {"amqp": {**amqp, "bindingVersion": AMQP_BINDING_VERSION}}}


_SEND = {"deliveryMode": 2, "mandatory": True}


def document() -> dict:
    """The AsyncAPI 3.0.0 document of the bus."""
    schemas: dict[str, Any] = {}
    _add_schemas(schemas, Envelope)
    messages = {message_id(topology.REPAIR_REQUESTED): _repair_requested_message(schemas)}
    for spec in _specs():
        messages[message_id(spec.type, spec.version)] = _event_message(spec, schemas)

    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    pc = _channel_id(topology.PHONE_CENTER_EXCHANGE, topology.REPAIR_REQUESTED)
    channels[pc] = _routing_key_channel(topology.PHONE_CENTER_EXCHANGE, topology.REPAIR_REQUESTED,
                                        [message_id(topology.REPAIR_REQUESTED)])
    operations["phone_center.send.repair_requested"] = _operation(
        "send", pc, [message_id(topology.REPAIR_REQUESTED)],
        "A phone center (or feedback, for a return visit that found a problem: source "
        "`return_visit`) sends a repair request.", _SEND)
    for spec in _specs():
        cid = _channel_id(spec.exchange, spec.type)
        if cid in channels:
            continue
        channels[cid] = _routing_key_channel(spec.exchange, spec.type, _versions(spec.type))
        operations[f"{spec.source}.send.{spec.type}"] = _operation(
            "send", cid, _versions(spec.type),
            f"{spec.source} publishes `{spec.type}` (through its transactional outbox; "
            "persistent, mandatory, publisher confirms).", _SEND)
    for q in topology.queues():
        cid = f"queue.{q.name}"
        channels[cid] = _queue_channel(q, _bound_messages(q))
        operations[f"{q.service}.receive.{q.name}"] = _operation(
            "receive", cid, _bound_messages(q),
            f"{q.service} consumes its queue `{q.name}`: acknowledged after the handler "
            "committed, idempotent by `event_id`; a type it has no handler for is "
            "acknowledged and ignored.", {"ack": True})
    for service in registry.SERVICES:
        channels[f"queue.{topology.parking_queue(service)}"] = _parking_channel(service)

    return {
        "asyncapi": "3.0.0",
        "id": "urn:aftersales:message-bus",
        "info": {
            "title": "After-sales service platform: the message bus",
            "version": "1.0.0",
            "description": "Every exchange, routing key and queue of the platform, the envelope "
                           "and every event version's payload. Exchanges `{source}.events` are "
                           "topic, durable, never auto-deleted; the routing key is the event "
                           "`type`; messages are persistent UTF-8 JSON. The same contracts "
                           "as tables: docs/events.md; one JSON Schema per event version: "
                           "docs/schemas/. " + _GENERATED,
        },
        "defaultContentType": "application/json",
        "servers": {"broker": {
            "host": DEFAULT_AMQP_URI.split("@", 1)[1].rstrip("/"), "protocol": "amqp",
            "protocolVersion": "0.9.1", "pathname": "/",
            "description": "RabbitMQ, at `AMQP_URI` (default "
                           f"`{DEFAULT_AMQP_URI.replace('guest:guest@', '')}`; "
                           "`rabbitmq:5672` under docker compose), virtual host `/`."}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def render_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def resolve(doc: dict, ref: str) -> Any:
    """The value a local ``$ref`` (``#/a/b``) points at (KeyError when it points at nothing)."""
    node: Any = doc
    for part in ref.lstrip("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return copy.deepcopy(node)
