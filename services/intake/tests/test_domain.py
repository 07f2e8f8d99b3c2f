"""Intake's pure domain: no I/O."""
from datetime import date

import pytest

from services.intake.domain import model


def test_ticket_numbers_are_branch_day_and_sequence():
    assert model.ticket_number("SH", date(2026, 11, 22), 7) == "SH-20261122-0007"
    assert model.TICKET_NO_RE.match(model.ticket_number("GZ", date(2026, 1, 2), 12345))
    with pytest.raises(ValueError):
        model.ticket_number("SH", date(2026, 11, 22), 0)


@pytest.mark.parametrize("text,priority,category", [
    ("车间全部停电，生产线停产", "A", "emergency_repair"),
    ("配电柜漏电，有人身安全风险", "A", "emergency_repair"),
    ("Fire in the compressor room", "A", "emergency_repair"),
    ("屋面局部漏水", "B", "fault"),
    ("新设备调试期间报警", "B", "fault"),
    ("请问如何申请年度保养", "C", "consultation"),
    ("门把手松了", "C", "fault"),
])
def test_classification_by_keywords(text, priority, category):
    c = model.classify(text, None, None)
    assert (c.priority, c.category) == (priority, category)
    assert c.rule  # every decision names what made it


def test_given_values_win_over_rules_and_are_recorded_as_given():
    c = model.classify("车间全部停电", "maintenance", "C")
    assert (c.priority, c.category, c.rule) == ("C", "maintenance", "given")


def test_default_classification_is_recorded():
    c = model.classify("门把手松了", None, None)
    assert c.rule == "category:default,priority:default"


def _asset(category, accepted, term=None):
    return model.AssetRecord("S1", "M", category, accepted, term)


@pytest.mark.parametrize("category,accepted,on,status,ends", [
    ("main_structure", date(2019, 6, 18), date(2026, 11, 22), "in_warranty", date(2029, 6, 18)),
    ("water_electrical", date(2024, 3, 2), date(2026, 3, 2), "in_warranty", date(2026, 3, 2)),
    ("water_electrical", date(2024, 3, 2), date(2026, 3, 3), "expired", date(2026, 3, 2)),
    ("decoration", date(2025, 1, 15), date(2026, 11, 22), "expired", date(2026, 1, 15)),
    ("other", date(2024, 2, 29), date(2025, 2, 28), "in_warranty", date(2025, 2, 28)),
])
def test_warranty_terms_from_the_acceptance_date(category, accepted, on, status, ends):
    d = model.warranty_for(_asset(category, accepted), on)
    assert (d.status, d.ends_on) == (status, ends)


def test_equipment_uses_the_manufacturer_term():
    d = model.warranty_for(_asset("equipment", date(2025, 9, 10), 18), date(2026, 11, 22))
    assert (d.status, d.ends_on) == ("in_warranty", date(2027, 3, 10))


def test_unknown_asset():
    assert model.warranty_for(None, date(2026, 11, 22)).status == "unknown_asset"


def test_branch_terms_override_the_defaults():
    d = model.warranty_for(_asset("decoration", date(2025, 1, 15)), date(2026, 11, 22),
                           terms={"decoration": 24})
    assert d.status == "in_warranty"


@pytest.mark.parametrize("check,status,allowed", [
    (model.check_cancel, "on_site", True), (model.check_cancel, "completed", False),
    (model.check_cancel, "cancelled", False), (model.check_resolve, "open", True),
    (model.check_resolve, "linked", True), (model.check_resolve, "accepted", False),
    (model.check_reclassify, "assigned", True), (model.check_reclassify, "resolved", False),
    (model.check_contact, "completed", True), (model.check_contact, "cancelled", False),
    (model.check_split, "linked", True), (model.check_split, "open", False),
])
def test_what_agents_may_do_in_each_status(check, status, allowed):
    if allowed:
        check(status)
    else:
        with pytest.raises(model.TransitionError):
            check(status)


def test_a_replaced_part_carries_three_months():
    d = model.warranty_for(_asset("replaced_part", date(2026, 11, 22)), date(2027, 2, 22))
    assert (d.status, d.ends_on) == ("in_warranty", date(2027, 2, 22))
    assert model.warranty_for(_asset("replaced_part", date(2026, 11, 22)),
                              date(2027, 2, 23)).status == "expired"


def test_branch_rules_files_are_validated():
    rules = model.rules_from([{"name": "roof", "keywords": ["屋面"], "priority": "B"}])
    assert model.classify("屋面有裂缝", None, None, rules + model.DEFAULT_RULES).priority == "B"
    with pytest.raises(ValueError):
        model.rules_from([{"name": "x", "keywords": ["a"], "priority": "Z"}])
    with pytest.raises(ValueError):
        model.rules_from([{"keywords": ["a"]}])


def test_categories_needing_a_visit():
    assert model.needs_visit("fault") and model.needs_visit("emergency_repair")
    assert not model.needs_visit("consultation") and not model.needs_visit("complaint")
