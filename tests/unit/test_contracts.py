"""Event contracts, docs/events.md, and the request schema's error messages."""
from pathlib import Path
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from aftersales.contracts import events, topology
from aftersales.contracts.events import EVENTS, RepairRequested
from aftersales.errors import pydantic_errors
from aftersales.eventsdoc import render
from aftersales.outbox import make_envelope
from tests.support.data import repair_request

ROOT = Path(__file__).resolve().parents[2]


def test_docs_events_md_is_generated_from_the_contracts():
    assert (ROOT / "docs" / "events.md").read_text(encoding="utf-8") == render(), \
        "docs/events.md is out of date: run `make docs`"


def test_every_event_is_published_on_its_services_exchange_and_consumed_by_someone():
    for (type_, version), spec in EVENTS.items():
        assert spec.exchange == f"{spec.source}.events"
        # for integrators (phone centers, purchasing, R&D) and the timeline only
        if type_ not in ("request_rejected", "ticket_linked", "reorder_needed",
                         "design_defect_reported"):
            assert topology.consumers_of(type_), f"nobody consumes {type_}"


def test_every_binding_names_a_known_event():
    known = {t for t, _ in EVENTS}
    for q in topology.QUEUES:
        for b in q.bindings:
            assert b.routing_key in known or b.exchange == topology.PHONE_CENTER_EXCHANGE


def test_the_registry_collects_every_producers_table_in_order():
    assert [s.source for s in EVENTS.values()] == \
        [p.SOURCE for p in events.PRODUCERS for _ in p.SPECS]
    assert len(EVENTS) == sum(len(p.SPECS) for p in events.PRODUCERS)
    for producer in events.PRODUCERS:   # each schema is defined beside its producer's table
        assert {schema.__module__ for _, _, schema, _ in producer.SPECS} == {producer.__name__}


def test_a_type_and_version_registered_twice_is_refused():
    opened = events.TicketOpenedV1
    one = SimpleNamespace(SOURCE="intake", SPECS=(("ticket_opened", 1, opened, "a"),))
    other = SimpleNamespace(SOURCE="dispatch", SPECS=(("ticket_opened", 1, opened, "b"),))
    with pytest.raises(ValueError, match="'ticket_opened' version 1 is registered twice: by intake "
                                         "and by dispatch"):
        events.collect([one, other])
    with pytest.raises(ValueError, match="registered twice"):
        events.collect([SimpleNamespace(SOURCE="intake", SPECS=one.SPECS * 2)])
    v2 = SimpleNamespace(SOURCE="intake", SPECS=(("ticket_opened", 2, opened, "c"),))
    assert set(events.collect([one, v2])) == {("ticket_opened", 1), ("ticket_opened", 2)}


def test_every_contract_is_imported_from_the_registry_module():
    exported = {name: getattr(events, name) for name in events.__all__}
    assert len(exported) == len(events.__all__)
    for spec in EVENTS.values():
        assert exported[spec.schema.__name__] is spec.schema
    assert exported["RepairRequested"] is RepairRequested


def test_a_valid_request_round_trips_chinese_text():
    body = repair_request()
    req = RepairRequested.model_validate(body)
    assert req.model_dump(mode="json")["site"]["address"] == body["site"]["address"]


@pytest.mark.parametrize("change,field,fragment", [
    (lambda b: b.pop("request_id"), "request_id", "is required"),
    (lambda b: b.update(channel="fax"), "channel", "must be one of"),
    (lambda b: b.update(received_at="2026-11-22T09:30:00"), "received_at", "no UTC offset"),
    (lambda b: b.update(received_at="yesterday"), "received_at", "not an ISO-8601"),
    (lambda b: b["fault"].update(description="   "), "fault.description", "must not be empty"),
    (lambda b: b["customer"].update(phone="abc"), "customer.phone", "not a phone number"),
    (lambda b: b.update(priority="D"), "priority", "must be one of"),
    (lambda b: b["fault"].update(category="repairs"), "fault.category", "must be one of"),
    (lambda b: b["customer"].update(email="nope"), "customer.email", "not an e-mail"),
])
def test_each_bad_field_is_named_with_a_clear_message(change, field, fragment):
    body = repair_request()
    change(body)
    with pytest.raises(ValidationError) as exc:
        RepairRequested.model_validate(body)
    errors = pydantic_errors(exc.value)
    assert [e["field"] for e in errors] == [field]
    assert fragment in errors[0]["message"]


def test_unknown_fields_are_ignored():
    body = repair_request()
    body["future_field"] = {"x": 1}
    RepairRequested.model_validate(body)


def test_an_envelope_is_validated_against_its_schema_and_owner():
    env = make_envelope("intake", "request_rejected",
                        {"request_id": "r", "source": "s", "errors": []}, ticket_no=None, branch="SH")
    assert env.version == 1 and env.source == "intake"
    with pytest.raises(ValueError, match="belongs to intake"):
        make_envelope("dispatch", "request_rejected",
                      {"request_id": "r", "source": "s", "errors": []}, ticket_no=None, branch="SH")
    with pytest.raises(ValidationError):
        make_envelope("intake", "ticket_opened", {"ticket_no": "x"}, ticket_no="x", branch="SH")


def test_each_consumers_queue_is_bound_to_exactly_the_types_of_its_bus_table():
    from aftersales import registry
    for name in registry.SERVICES:
        table = registry.consumed_events(name)
        if not table:
            continue
        bound = [b.routing_key for b in topology.queue(f"aftersales.{name}.events").bindings]
        assert bound == list(table), name
        for type_ in table:
            assert name in topology.consumers_of(type_)
