"""The service desk's form and lookup logic without any service: the repair request built from
the form, the asset's history picked from a ticket list, the SLA clocks in stage order."""
from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

from services.console import i18n, i18n_desk
from services.console.pages_desk import history_of, request_body, sla_rows

AGENT = SimpleNamespace(branch="SH", is_hq=False)
HQ = SimpleNamespace(branch="HQ", is_hq=True)
NOW = datetime(2026, 11, 22, 1, 30, tzinfo=timezone.utc)


def test_the_request_carries_the_forms_fields_by_the_apis_names():
    form = {"request_id": "DESK-1", "customer.name": " 上海浦东重工有限公司 ",
            "customer.contact_name": "张伟", "customer.phone": "13812345678",
            "site.address": "上海市浦东新区张杨路1500号", "asset.serial_no": "SH-GJ-2019-0001",
            "fault.description": "漏水", "fault.category": "", "priority": "A",
            "branch": "HZ"}
    body = request_body(form, AGENT, now=NOW)
    assert body["branch"] == "SH"                       # a branch user's own, whatever is sent
    assert body["source"] == "console" and body["request_id"] == "DESK-1"
    assert body["customer"] == {"name": "上海浦东重工有限公司", "contact_name": "张伟",
                                "phone": "13812345678"}
    assert body["asset"] == {"serial_no": "SH-GJ-2019-0001"}
    assert body["fault"] == {"description": "漏水"} and body["priority"] == "A"
    assert body["received_at"] == "2026-11-22T01:30:00+00:00" and body["channel"] == "phone"
    assert request_body({"branch": "HZ"}, HQ, now=NOW)["branch"] == "HZ"


def test_an_empty_form_still_names_each_required_field_for_intake():
    body = request_body({}, AGENT, now=NOW)
    assert body["customer"] == {"name": "", "contact_name": "", "phone": ""}
    assert body["site"] == {"address": ""} and body["fault"] == {"description": ""}
    assert "asset" not in body and "priority" not in body
    assert body["request_id"].startswith("DESK-")


def test_the_history_is_the_tickets_of_that_serial():
    tickets = [{"ticket_no": "A", "asset": {"serial_no": "sh-1"}}, {"ticket_no": "B", "asset": {}},
               {"ticket_no": "C", "asset": {"serial_no": "SH-1 "}}, {"ticket_no": "D"}]
    assert [t["ticket_no"] for t in history_of(tickets, "SH-1")] == ["A", "C"]
    assert history_of(tickets, "  ") == []


def test_the_clocks_come_in_the_stages_order():
    sla = {"clocks": [{"stage": "resolution"}, {"stage": "response"}, {"stage": "arrival"}]}
    assert [c["stage"] for c in sla_rows(sla)] == ["response", "arrival", "resolution"]
    assert sla_rows(None) == []


def test_every_desk_string_and_event_is_in_both_languages():
    assert set(i18n_desk.STRINGS["zh"]) == set(i18n_desk.STRINGS["en"])
    for lang in i18n.LANGS:
        assert i18n.translate(lang, "desk.event.ticket_opened") != "desk.event.ticket_opened"


def test_every_event_type_has_a_name_on_the_timeline():
    from aftersales.contracts.events import EVENTS
    assert {t for t, _ in EVENTS} <= set(i18n_desk.EVENTS)
