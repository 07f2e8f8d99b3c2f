"""Feedback's domain: issuing surveys, checking answers, the low-score rule."""
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.feedback.domain.model import (ANSWERED, DIMENSIONS, EXPIRED, PENDING, Answer,
                                            answer_errors, follow_up_required, issue_survey,
                                            parse_answer)

NOW = datetime(2026, 11, 23, 16, 5, tzinfo=timezone.utc)


def answer(**scores) -> Answer:
    return Answer(scores={d: scores.get(d, 5) for d in DIMENSIONS}, recommend=9)


def test_issued_survey_has_an_unguessable_token_and_expires_after_14_days_by_default():
    a = issue_survey("SH-20261122-0001", "SH", "E-SH-007", NOW)
    b = issue_survey("SH-20261122-0001", "SH", "E-SH-007", NOW)
    assert a.token != b.token and len(a.token) >= 32 and a.survey_id != b.survey_id
    assert a.expires_at == NOW + timedelta(days=14)
    assert issue_survey("T", "SH", None, NOW, valid_days=3).expires_at == NOW + timedelta(days=3)


def test_status_pending_until_expiry_then_expired_unless_answered():
    s = issue_survey("T", "SH", None, NOW, valid_days=1)
    assert s.status(NOW) == PENDING
    assert s.status(NOW + timedelta(days=1)) == EXPIRED
    answered = type(s)(**{**s.__dict__, "answered_at": NOW + timedelta(hours=1)})
    assert answered.status(NOW + timedelta(days=30)) == ANSWERED


def test_a_complete_answer_has_no_errors_and_keeps_the_chinese_comment():
    doc = {**{d: 4 for d in DIMENSIONS}, "recommend": 10, "comment": "  工程师很专业，响应及时。 "}
    assert answer_errors(doc) == []
    parsed = parse_answer(doc)
    assert parsed.comment == "工程师很专业，响应及时。" and parsed.recommend == 10
    assert parse_answer({**doc, "comment": "   "}).comment is None


def test_every_bad_field_is_named():
    doc = {"response_speed": 0, "attitude": 6, "professionalism": "5", "effectiveness": True,
           "communication": 3.5, "recommend": 11, "comment": 42}
    errors = {e["field"]: e["message"] for e in answer_errors(doc)}
    assert set(errors) == {"response_speed", "attitude", "professionalism", "effectiveness",
                           "communication", "overall", "recommend", "comment"}
    assert errors["overall"] == "is required"
    assert "1 to 5" in errors["attitude"] and "0 to 10" in errors["recommend"]


@pytest.mark.parametrize("scores, expected", [
    ({}, False),                                   # all 5
    ({"overall": 4, "attitude": 3}, False),
    ({"overall": 3}, True),                        # overall <= 3
    ({"communication": 2}, True),                  # any dimension <= 2
    ({"response_speed": 1, "overall": 5}, True),
])
def test_low_score_rule(scores, expected):
    assert follow_up_required(answer(**scores)) is expected


@given(st.fixed_dictionaries({d: st.integers(1, 5) for d in DIMENSIONS}))
def test_low_score_rule_matches_its_definition(scores):
    a = Answer(scores=scores, recommend=5)
    assert follow_up_required(a) == (min(scores.values()) <= 2 or scores["overall"] <= 3)
