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


# -- reminders and expiry (an injected "now": weeks pass in no time) ---------------------------
from services.feedback.domain.model import EXPIRE, REMIND, low_scores, open_follow_up  # noqa: E402


def test_reminders_on_day_3_and_7_then_expiry_on_day_14():
    s = issue_survey("T", "SH", "E1", NOW)
    assert s.next_due_at() == NOW + timedelta(days=3)
    assert s.due_action(NOW + timedelta(days=2, hours=23)) is None
    assert s.due_action(NOW + timedelta(days=3)) == (REMIND, 1)
    s1 = type(s)(**{**s.__dict__, "reminders_sent": 1})
    assert s1.next_due_at() == NOW + timedelta(days=7)
    assert s1.due_action(NOW + timedelta(days=5)) is None
    assert s1.due_action(NOW + timedelta(days=7)) == (REMIND, 2)
    s2 = type(s)(**{**s.__dict__, "reminders_sent": 2})
    assert s2.next_due_at() == NOW + timedelta(days=14)
    assert s2.due_action(NOW + timedelta(days=13)) is None
    assert s2.due_action(NOW + timedelta(days=14)) == (EXPIRE, 0)
    done = type(s)(**{**s.__dict__, "reminders_sent": 2, "expired_at": NOW + timedelta(days=14)})
    assert done.next_due_at() is None and done.status(NOW) == EXPIRED


def test_a_missed_reminder_is_sent_once_and_a_late_scan_only_expires():
    s = issue_survey("T", "SH", None, NOW)
    assert s.due_action(NOW + timedelta(days=8)) == (REMIND, 2)     # one reminder, numbered 2
    assert s.due_action(NOW + timedelta(days=30)) == (EXPIRE, 0)
    answered = type(s)(**{**s.__dict__, "answered_at": NOW})
    assert answered.next_due_at() is None and answered.due_action(NOW + timedelta(days=30)) is None


def test_reminders_after_the_expiry_are_skipped():
    s = issue_survey("T", "SH", None, NOW, valid_days=2)
    assert s.next_due_at() == NOW + timedelta(days=2)
    assert s.due_action(NOW + timedelta(days=2)) == (EXPIRE, 0)
    assert s.next_due_at(reminder_days=(1,)) == NOW + timedelta(days=1)


def test_a_low_score_opens_a_follow_up_naming_the_low_scores_due_in_two_days():
    s = issue_survey("SH-1", "SH", "E-SH-007", NOW)
    a = answer(attitude=2, overall=3)
    assert low_scores(a) == ["attitude=2", "overall=3"]
    fu = open_follow_up(s, a, NOW)
    assert (fu.ticket_no, fu.branch, fu.engineer_id, fu.status) == ("SH-1", "SH", "E-SH-007", "open")
    assert fu.due_at == NOW + timedelta(days=2)
    fu.close("dispatcher:k1", "已回电，客户接受道歉", NOW)
    assert fu.status == "closed"
    with pytest.raises(ValueError):
        fu.close("x", "again", NOW)
    assert low_scores(answer()) == []
