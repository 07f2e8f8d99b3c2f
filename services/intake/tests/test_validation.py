"""Intake's request validation: every bad field is named, with a clock injected; nothing beyond
the bounds (wrong types, lone surrogates, times out of range) gets through to a ticket."""
from datetime import datetime, timedelta, timezone

import pytest

from aftersales import jsonbounds
from aftersales.errors import InvalidInput
from services.intake.domain import model
from services.intake.service_layer.validation import answer_address, validate_request
from tests.support.data import repair_request

NOW = datetime(2026, 12, 2, 4, 0, tzinfo=timezone.utc)
BRANCHES = {"SH": {}, "HZ": {}}


def _fields(body, now=NOW) -> dict:
    with pytest.raises(InvalidInput) as exc:
        validate_request(body, BRANCHES, now)
    return {e["field"]: e["message"] for e in exc.value.errors}


@pytest.mark.parametrize("branch", [{"code": "SH"}, ["SH"], 7, None, "XX"])
def test_a_branch_that_is_not_a_known_branch_code_is_named(branch):
    fields = _fields(repair_request(branch=branch) if branch is not None else
                     repair_request(branch=None))
    assert list(fields) == ["branch"], fields


def test_a_lone_surrogate_is_refused_naming_the_field():
    body = repair_request()
    body["customer"]["name"] = "上海\ud800钢构"
    body["fault"]["description"] = "漏水\udfff"
    assert _fields(body) == {
        "customer.name": "contains a lone surrogate (not valid Unicode text)",
        "fault.description": "contains a lone surrogate (not valid Unicode text)"}


def test_a_field_nested_too_deeply_is_named_once():
    body = jsonbounds.loads(b'{"fault": {"description": ' + b"[" * 40 + b"]" * 40 + b"}}",
                            strict=False)
    fields = _fields({**repair_request(), "fault": body["fault"]})
    assert list(fields) == [next(iter(fields))] and next(iter(fields)).startswith(
        "fault.description.0.0"), fields


@pytest.mark.parametrize("received_at", ["0001-01-01T00:00:00-08:00", "0001-01-01T00:00:00+08:00",
                                         "9999-12-31T23:59:59-08:00", "2025-11-30T00:00:00+08:00",
                                         "2026-12-02T05:30:00+00:00"])
def test_received_at_outside_a_year_ago_to_an_hour_ahead_is_refused(received_at):
    fields = _fields(repair_request(received_at=received_at))
    assert list(fields) == ["received_at"]
    assert "at most 365 days ago and 1 hour(s) ahead" in fields["received_at"]


def test_received_at_within_the_window_of_the_injected_clock_is_accepted():
    for received_at in ("2025-12-03T00:00:00+00:00", "2026-12-02T04:59:00+00:00"):
        req = validate_request(repair_request(received_at=received_at), BRANCHES, NOW)
        assert req.received_at == datetime.fromisoformat(received_at)
    # the same time is refused by a clock two years on
    assert "received_at" in _fields(repair_request(received_at="2026-11-22T09:30:00+08:00"),
                                    now=NOW + timedelta(days=730))


def test_expected_by_more_than_two_years_ahead_or_in_year_one_is_refused():
    for expected_by in ("2029-01-01T00:00:00+08:00", "0001-01-01T00:00:00+08:00"):
        assert list(_fields(repair_request(expected_by=expected_by))) == ["expected_by"]


def test_error_lists_are_bounded_and_safe_to_store():
    body = {f"k{i}": "\ud800" for i in range(500)}
    with pytest.raises(InvalidInput) as exc:
        validate_request(body, BRANCHES, NOW)
    assert len(exc.value.errors) <= 20
    for e in exc.value.errors:
        (e["field"] + e["message"]).encode("utf-8")      # no lone surrogate left


def test_a_refused_request_is_answered_to_its_readable_source_and_request_id():
    assert answer_address({"request_id": "CALL-1", "source": "pc-sh", "branch": "SH",
                           "channel": 5}, BRANCHES) == ("pc-sh", "CALL-1", "SH")
    assert answer_address({"request_id": "x" * 101, "source": "pc\ud800", "branch": ["SH"]},
                          BRANCHES) == (None, None, None)
    assert answer_address({"request_id": {"a": 1}, "source": "pc-sh", "branch": "ZZ"},
                          BRANCHES) == ("pc-sh", None, None)


def test_the_time_window_is_a_pure_rule():
    assert model.time_errors(NOW, None, NOW) == []
    assert [e["field"] for e in model.time_errors(NOW - timedelta(days=400), NOW, NOW)] == \
        ["received_at"]


def test_a_rejection_never_echoes_personal_data():
    fields = _fields(repair_request(channel="张伟 13812345678", priority="13812345678"))
    assert fields["channel"].endswith("; got another value")
    assert "13812345678" not in fields["priority"] and "138****5678" in fields["priority"]
    assert _fields(repair_request(channel="fax"))["channel"].endswith("got 'fax'")
