"""Feedback's domain: satisfaction surveys after a job, their answers and the low-score rule.

Pure Python: no framework, database or broker imports.
"""
from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

DEFAULT_VALID_DAYS = 14
DEFAULT_REMINDER_DAYS = (3.0, 7.0)    # days after issue: a reminder each, while unanswered
FOLLOW_UP_DAYS = 2                    # the supervisor calls back within this many days

# The questions of the survey: (field, label shown to the customer). Scores are 1-5.
QUESTIONS: tuple[tuple[str, str], ...] = (
    ("response_speed", "响应速度"),
    ("attitude", "服务态度"),
    ("professionalism", "专业水平"),
    ("effectiveness", "维修效果"),
    ("communication", "沟通及时性"),
    ("overall", "总体满意度"),
)
DIMENSIONS = tuple(field for field, _ in QUESTIONS)
SCORE_RANGE = (1, 5)
RECOMMEND_RANGE = (0, 10)
RECOMMEND_LABEL = "您有多大可能向他人推荐我们的服务？(0-10)"
COMMENT_LABEL = "意见和建议"
COMMENT_MAX = 2000

# Low-score rule: any dimension at or below this, or overall at or below OVERALL_FOLLOW_UP,
# means someone calls the customer back.
LOW_SCORE = 2
OVERALL_FOLLOW_UP = 3

PENDING, ANSWERED, EXPIRED = "pending", "answered", "expired"
REMIND, EXPIRE = "remind", "expire"
CHANNELS = ("link", "phone")   # answered by the customer over the link, or recorded by an agent


def new_token() -> str:
    """The secret in the customer's link: unguessable, URL-safe."""
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Answer:
    scores: dict[str, int]      # every field of DIMENSIONS
    recommend: int
    comment: str | None = None


@dataclass(frozen=True)
class Survey:
    survey_id: str
    token: str
    ticket_no: str
    branch: str
    engineer_id: str | None
    issued_at: datetime
    expires_at: datetime
    answered_at: datetime | None = None
    answer: Answer | None = None
    follow_up_required: bool = False
    reminders_sent: int = 0
    expired_at: datetime | None = None      # when the expiry was recorded (and announced)
    channel: str | None = None              # link | phone, once answered

    def status(self, now: datetime) -> str:
        if self.answered_at is not None:
            return ANSWERED
        return EXPIRED if (self.expired_at is not None or now >= self.expires_at) else PENDING

    def next_due_at(self, reminder_days=DEFAULT_REMINDER_DAYS) -> datetime | None:
        """When the scheduler has something to do for this survey: the next reminder, or the
        expiry; None once answered or expired."""
        if self.answered_at is not None or self.expired_at is not None:
            return None
        days = sorted(reminder_days)
        if self.reminders_sent < len(days):
            at = self.issued_at + timedelta(days=days[self.reminders_sent])
            if at < self.expires_at:
                return at
        return self.expires_at

    def due_action(self, now: datetime, reminder_days=DEFAULT_REMINDER_DAYS) -> tuple[str, int] | None:
        """``(EXPIRE, 0)`` past the expiry, ``(REMIND, n)`` when reminder ``n`` is due (a
        reminder whose time was missed is sent once, not once per missed slot), else None."""
        due = self.next_due_at(reminder_days)
        if due is None or now < due:
            return None
        if now >= self.expires_at:
            return EXPIRE, 0
        passed = sum(1 for d in reminder_days if self.issued_at + timedelta(days=d) <= now)
        return REMIND, max(passed, self.reminders_sent + 1)


def issue_survey(ticket_no: str, branch: str, engineer_id: str | None, now: datetime,
                 valid_days: float = DEFAULT_VALID_DAYS) -> Survey:
    if valid_days < 0:
        raise ValueError("a survey's validity cannot be negative")
    return Survey(survey_id=str(uuid.uuid4()), token=new_token(), ticket_no=ticket_no,
                  branch=branch, engineer_id=engineer_id, issued_at=now,
                  expires_at=now + timedelta(days=valid_days))


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def answer_errors(doc: dict) -> list[dict]:
    """Every problem of a submitted answer as ``{field, message}`` (empty when it is fine)."""
    errors = []
    lo, hi = SCORE_RANGE
    for field in DIMENSIONS:
        if field not in doc or doc[field] is None:
            errors.append({"field": field, "message": "is required"})
        elif not _whole(doc[field]) or not lo <= doc[field] <= hi:
            errors.append({"field": field, "message": f"must be a whole number from {lo} to {hi}"})
    lo, hi = RECOMMEND_RANGE
    rec = doc.get("recommend")
    if rec is None:
        errors.append({"field": "recommend", "message": "is required"})
    elif not _whole(rec) or not lo <= rec <= hi:
        errors.append({"field": "recommend", "message": f"must be a whole number from {lo} to {hi}"})
    comment = doc.get("comment")
    if comment is not None and not isinstance(comment, str):
        errors.append({"field": "comment", "message": "must be text"})
    elif isinstance(comment, str) and len(comment) > COMMENT_MAX:
        errors.append({"field": "comment", "message": f"is longer than {COMMENT_MAX} characters"})
    return errors


def parse_answer(doc: dict) -> Answer:
    """An :class:`Answer` from a checked document (call :func:`answer_errors` first)."""
    comment = doc.get("comment")
    comment = (comment.strip() or None) if isinstance(comment, str) else None
    return Answer(scores={f: doc[f] for f in DIMENSIONS}, recommend=doc["recommend"],
                  comment=comment)


def follow_up_required(answer: Answer) -> bool:
    """Low-score rule: any dimension ≤ 2, or overall ≤ 3."""
    return (any(score <= LOW_SCORE for score in answer.scores.values())
            or answer.scores["overall"] <= OVERALL_FOLLOW_UP)


def low_scores(answer: Answer) -> list[str]:
    """Why an answer needs a follow-up, e.g. ``["response_speed=2", "overall=3"]``."""
    out = [f"{d}={answer.scores[d]}" for d in DIMENSIONS
           if answer.scores[d] <= LOW_SCORE and d != "overall"]
    if answer.scores["overall"] <= OVERALL_FOLLOW_UP:
        out.append(f"overall={answer.scores['overall']}")
    return out


class FollowUpError(ValueError):
    """A follow-up cannot change so (closed already)."""


@dataclass
class FollowUp:
    """The supervisor's call-back after a low score (closed loop)."""
    follow_up_id: str
    survey_id: str
    ticket_no: str
    branch: str
    engineer_id: str | None
    reasons: list[str]
    opened_at: datetime
    due_at: datetime
    status: str = "open"          # open | closed
    closed_at: datetime | None = None
    closed_by: str | None = None
    note: str | None = None

    def close(self, by: str, note: str, now: datetime) -> None:
        if self.status != "open":
            raise FollowUpError("this follow-up is closed already")
        self.status, self.closed_at, self.closed_by, self.note = "closed", now, by, note


def open_follow_up(survey: Survey, answer: Answer, now: datetime,
                   days: float = FOLLOW_UP_DAYS) -> FollowUp:
    return FollowUp(follow_up_id=f"FU-{uuid.uuid4().hex[:12].upper()}", survey_id=survey.survey_id,
                    ticket_no=survey.ticket_no, branch=survey.branch,
                    engineer_id=survey.engineer_id, reasons=low_scores(answer), opened_at=now,
                    due_at=now + timedelta(days=days))
