"""Complaints (投诉): severity, owner, deadline, handling notes, resolution, the customer's
confirmation, and escalation when a complaint is overdue.

Pure Python: no framework, database or broker imports.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

SEVERITIES = ("low", "medium", "high")
# hours from registration (or from reopening / escalation) to the deadline, by severity
DEADLINE_HOURS = {"high": 24, "medium": 72, "low": 168}
# escalation level -> who gets it; an overdue complaint climbs one level per missed deadline
ESCALATION = {1: "branch_manager", 2: "general_manager"}
MAX_LEVEL = max(ESCALATION)
# an intake ticket of category complaint: its priority decides the severity
SEVERITY_BY_PRIORITY = {"A": "high", "B": "medium", "C": "low"}

OPEN, RESOLVED, CLOSED = "open", "resolved", "closed"


class ComplaintError(ValueError):
    """The action does not fit the complaint's state (409)."""


@dataclass
class Complaint:
    complaint_id: str
    ticket_no: str
    branch: str
    source: str                  # intake | agent
    severity: str
    description: str
    registered_at: datetime
    deadline: datetime
    owner: str | None = None
    status: str = OPEN
    escalation_level: int = 0
    notes: list[dict] = field(default_factory=list)
    resolution: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    confirmed_at: datetime | None = None
    satisfied: bool | None = None
    engineer_id: str | None = None

    def overdue(self, now: datetime) -> bool:
        return self.status == OPEN and now >= self.deadline

    def due_escalation(self, now: datetime) -> bool:
        return self.overdue(now) and self.escalation_level < MAX_LEVEL

    def escalate(self, now: datetime) -> tuple[int, str]:
        """One level up; a new deadline of the severity's window from now."""
        if not self.due_escalation(now):
            raise ComplaintError("the complaint is not overdue")
        self.escalation_level += 1
        self.deadline = now + timedelta(hours=DEADLINE_HOURS[self.severity])
        to = ESCALATION[self.escalation_level]
        self.notes.append({"at": now.isoformat(), "by": "system",
                           "text": f"overdue: escalated to {to}"})
        return self.escalation_level, to

    def add_note(self, by: str, text: str, now: datetime) -> None:
        if self.status == CLOSED:
            raise ComplaintError("the complaint is closed")
        self.notes.append({"at": now.isoformat(), "by": by, "text": text})

    def assign(self, owner: str, by: str, now: datetime) -> None:
        if self.status == CLOSED:
            raise ComplaintError("the complaint is closed")
        self.owner = owner
        self.notes.append({"at": now.isoformat(), "by": by, "text": f"owner: {owner}"})

    def resolve(self, by: str, resolution: str, now: datetime) -> None:
        if self.status != OPEN:
            raise ComplaintError(f"the complaint is {self.status}, not open")
        self.status, self.resolution, self.resolved_at, self.resolved_by = \
            RESOLVED, resolution, now, by

    def confirm(self, satisfied: bool, now: datetime, note: str | None = None) -> None:
        """The customer's answer to the resolution: closed, or reopened with a new deadline."""
        if self.status != RESOLVED:
            raise ComplaintError(f"the complaint is {self.status}; only a resolved one is confirmed")
        self.confirmed_at, self.satisfied = now, satisfied
        if note:
            self.notes.append({"at": now.isoformat(), "by": "customer", "text": note})
        if satisfied:
            self.status = CLOSED
        else:
            self.status = OPEN
            self.deadline = now + timedelta(hours=DEADLINE_HOURS[self.severity])
            self.notes.append({"at": now.isoformat(), "by": "system",
                               "text": "customer not satisfied: reopened"})


def register(ticket_no: str, branch: str, source: str, severity: str, description: str,
             now: datetime, owner: str | None = None, deadline: datetime | None = None,
             engineer_id: str | None = None) -> Complaint:
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}")
    return Complaint(
        complaint_id=f"CP-{uuid.uuid4().hex[:12].upper()}", ticket_no=ticket_no, branch=branch,
        source=source, severity=severity, description=description, registered_at=now,
        deadline=deadline or now + timedelta(hours=DEADLINE_HOURS[severity]), owner=owner,
        engineer_id=engineer_id)
