"""Feedback's tables (its own database; no other service reads them)."""
from sqlalchemy import (Boolean, Column, Integer, MetaData, SmallInteger, String,
                        Table, Text, UniqueConstraint)

from aftersales.timecolumns import UTCDateTime

from ..domain.model import DIMENSIONS

metadata = MetaData()

surveys = Table(
    "surveys", metadata,
    Column("survey_id", String(36), primary_key=True),
    Column("token", String(64), nullable=False, unique=True),
    Column("ticket_no", String(40), nullable=False, index=True),
    Column("branch", String(20), nullable=False, index=True),
    Column("engineer_id", String(40), nullable=True, index=True),
    Column("source_event_id", String(36), nullable=True),
    Column("issued_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    # the answer (one per survey): NULL until the customer answers
    Column("answered_at", UTCDateTime(), nullable=True),
    *[Column(f"score_{d}", SmallInteger, nullable=True) for d in DIMENSIONS],
    Column("recommend", SmallInteger, nullable=True),
    Column("comment", Text, nullable=True),
    Column("follow_up_required", Boolean, nullable=False, default=False),
    # 0002: reminders and expiry (the scheduler's next due time), how it was answered
    Column("reminders_sent", Integer, nullable=False, default=0, server_default="0"),
    Column("next_due_at", UTCDateTime(), nullable=True, index=True),
    Column("expired_at", UTCDateTime(), nullable=True),
    Column("channel", String(10), nullable=True),
    Column("recorded_by", String(100), nullable=True),
)

# feedback's own copy of what it needs of a ticket (customer for surveys and visits) and of
# its closed job (the outcome, for the statistics); customer data is never logged in full.
# Named "jobs" until migration 0004.
closed_jobs = Table(
    "closed_jobs", metadata,
    Column("ticket_no", String(40), primary_key=True),
    Column("branch", String(20), nullable=False, index=True),
    Column("category", String(30), nullable=True),
    Column("priority", String(1), nullable=True),
    Column("customer", Text, nullable=True),     # JSON
    Column("site", Text, nullable=True),         # JSON
    Column("asset", Text, nullable=True),        # JSON
    Column("engineer_id", String(40), nullable=True, index=True),
    Column("completed_at", UTCDateTime(), nullable=True),
    Column("closed_at", UTCDateTime(), nullable=True, index=True),
    Column("first_time_fix", Boolean, nullable=True),
    Column("rework_count", Integer, nullable=True),
)

follow_ups = Table(
    "follow_ups", metadata,
    Column("follow_up_id", String(40), primary_key=True),
    Column("survey_id", String(36), nullable=False, unique=True),
    Column("ticket_no", String(40), nullable=False, index=True),
    Column("branch", String(20), nullable=False, index=True),
    Column("engineer_id", String(40), nullable=True, index=True),
    Column("reasons", Text, nullable=False),     # JSON list
    Column("opened_at", UTCDateTime(), nullable=False),
    Column("due_at", UTCDateTime(), nullable=False),
    Column("status", String(10), nullable=False),
    Column("closed_at", UTCDateTime(), nullable=True),
    Column("closed_by", String(100), nullable=True),
    Column("note", Text, nullable=True),
)

complaints = Table(
    "complaints", metadata,
    Column("complaint_id", String(40), primary_key=True),
    Column("ticket_no", String(40), nullable=False, index=True),
    Column("branch", String(20), nullable=False, index=True),
    Column("source", String(10), nullable=False),
    Column("source_event_id", String(36), nullable=True, unique=True),
    Column("severity", String(10), nullable=False),
    Column("description", Text, nullable=False),
    Column("owner", String(100), nullable=True),
    Column("engineer_id", String(40), nullable=True),
    Column("registered_at", UTCDateTime(), nullable=False, index=True),
    Column("deadline", UTCDateTime(), nullable=False, index=True),
    Column("status", String(10), nullable=False),
    Column("escalation_level", Integer, nullable=False, default=0),
    Column("notes", Text, nullable=False),       # JSON list
    Column("resolution", Text, nullable=True),
    Column("resolved_at", UTCDateTime(), nullable=True),
    Column("resolved_by", String(100), nullable=True),
    Column("confirmed_at", UTCDateTime(), nullable=True),
    Column("satisfied", Boolean, nullable=True),
)

visits = Table(
    "visits", metadata,
    Column("visit_id", String(40), primary_key=True),
    Column("key", String(300), nullable=False, unique=True),
    Column("ticket_no", String(40), nullable=False, index=True),
    Column("branch", String(20), nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("plan_id", String(60), nullable=True),
    Column("label", String(200), nullable=True),
    Column("due_at", UTCDateTime(), nullable=False, index=True),
    Column("status", String(10), nullable=False),
    Column("outcome", String(20), nullable=True),
    Column("notes", Text, nullable=True),
    Column("completed_at", UTCDateTime(), nullable=True),
    Column("completed_by", String(100), nullable=True),
    Column("request_id", String(100), nullable=True, unique=True),
)

visit_plans = Table(
    "visit_plans", metadata,
    Column("plan_id", String(60), primary_key=True),
    Column("definition", Text, nullable=False),  # JSON: name, kind, month, day, filters, active
    Column("updated_at", UTCDateTime(), nullable=False),
)

plan_runs = Table(
    "plan_runs", metadata,
    Column("plan_id", String(60), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("ran_at", UTCDateTime(), nullable=False),
    Column("visits", Integer, nullable=False),
)

sla_results = Table(
    "sla_results", metadata,
    Column("event_id", String(36), primary_key=True),
    Column("ticket_no", String(40), nullable=False),
    Column("branch", String(20), nullable=False, index=True),
    Column("stage", String(20), nullable=False),
    Column("priority", String(1), nullable=False),
    Column("met", Boolean, nullable=False),
    Column("completed_at", UTCDateTime(), nullable=False, index=True),
)

diagnoses = Table(
    "diagnoses", metadata,
    Column("event_id", String(36), primary_key=True),
    Column("ticket_no", String(40), nullable=False, index=True),
    Column("branch", String(20), nullable=False, index=True),
    Column("engineer_id", String(40), nullable=True),
    Column("cause", String(30), nullable=False),
    Column("responsibility", String(100), nullable=False),
    Column("diagnosed_at", UTCDateTime(), nullable=False, index=True),
)

parts_used = Table(
    "parts_used", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),
    Column("ticket_no", String(40), nullable=False),
    Column("branch", String(20), nullable=False, index=True),
    Column("sku", String(40), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("consumed_at", UTCDateTime(), nullable=False, index=True),
    UniqueConstraint("event_id", "sku", name="uq_parts_used_event_sku"),
)
