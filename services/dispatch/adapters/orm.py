"""Dispatch's tables (its own database; no other service reads them)."""
from sqlalchemy import (JSON, Boolean, Column, Float, Index, Integer, MetaData, String, Table,
                        Text, UniqueConstraint)

from aftersales.timecolumns import UTCDateTime

metadata = MetaData()

# the roster: field engineers and, with role 'supervisor', who a branch escalates to
engineers = Table(
    "engineers", metadata,
    Column("engineer_id", String(40), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("branch", String(20), nullable=False, index=True),
    Column("role", String(20), nullable=False),
    Column("skills", JSON, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("max_jobs", Integer, nullable=False),
    # 0002: zone, skill levels, shift calendar, leave periods
    Column("zone", String(40), nullable=True),
    Column("skill_levels", JSON, nullable=True),     # {skill: level 1-5}
    Column("shift", JSON, nullable=True),            # {"mon": [["08:30","17:30"]], ...}; null: on call
    Column("leave", JSON, nullable=True),            # [[from ISO, to ISO], ...]
)

jobs = Table(
    "jobs", metadata,
    Column("ticket_no", String(40), primary_key=True),
    Column("branch", String(20), nullable=False),
    Column("priority", String(1), nullable=False),
    Column("category", String(40), nullable=False),
    Column("product_line", String(40), nullable=True),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("status", String(20), nullable=False),
    Column("engineer_id", String(40), nullable=True),
    Column("engineer_name", String(100), nullable=True),
    Column("escalated_to", String(40), nullable=True),
    Column("opened_event_id", String(36), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("assigned_at", UTCDateTime(), nullable=True),
    Column("accepted_at", UTCDateTime(), nullable=True),
    Column("checked_in_at", UTCDateTime(), nullable=True),
    Column("completed_at", UTCDateTime(), nullable=True),
    Column("summary", Text, nullable=True),
    Column("parts_used", JSON, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    # 0002: the whole on-site job
    Column("in_warranty", Boolean, nullable=True),
    Column("zone_hint", String(200), nullable=True),
    Column("appointment_from", UTCDateTime(), nullable=True),
    Column("appointment_to", UTCDateTime(), nullable=True),
    Column("en_route_at", UTCDateTime(), nullable=True),
    Column("diagnosis", JSON, nullable=True),
    Column("quote", JSON, nullable=True),
    Column("signed_off_at", UTCDateTime(), nullable=True),
    Column("closed_at", UTCDateTime(), nullable=True),
    Column("cancelled_at", UTCDateTime(), nullable=True),
    Column("visits", Integer, nullable=True),
    Column("rework_count", Integer, nullable=True),
    Column("declined_by", JSON, nullable=True),
    Column("last_report_at", UTCDateTime(), nullable=True),
    Column("report_reminded_at", UTCDateTime(), nullable=True),
    # 0003: the job's parts requests as the parts service reports them (status, prices, ETA)
    Column("parts_requests", JSON, nullable=True),
    # 0009: who signed the work off for the customer (their signature image: job_evidence)
    Column("signed_by", String(100), nullable=True),
    Index("ix_jobs_branch_status", "branch", "status"),
    Index("ix_jobs_engineer_status", "engineer_id", "status"),
    # 0007: the timer's questions (JobRepository.awaiting_acceptance: assigned, assigned_at
    # passed; reports_due: on site, last_report_at passed), each a range scan of the jobs due
    Index("ix_jobs_status_assigned_at", "status", "assigned_at"),
    Index("ix_jobs_status_last_report_at", "status", "last_report_at"),
)

# every assignment decision with the ranking it was made from (reassignments append)
assignments = Table(
    "assignments", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_no", String(40), nullable=False, index=True),
    Column("engineer_id", String(40), nullable=True),
    Column("escalated_to", String(40), nullable=True),
    Column("reason", Text, nullable=False),
    Column("ranking", JSON, nullable=False),
    Column("decided_at", UTCDateTime(), nullable=False),
)


# 0002: the SLA clocks, one row per (ticket, stage); the timer scans the open ones
sla_clocks = Table(
    "sla_clocks", metadata,
    Column("ticket_no", String(40), primary_key=True),
    Column("stage", String(20), primary_key=True),
    Column("branch", String(20), nullable=False),
    Column("priority", String(1), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("target_seconds", Float, nullable=False),
    Column("working", Boolean, nullable=False),
    Column("due_at", UTCDateTime(), nullable=True),
    Column("at_risk_at", UTCDateTime(), nullable=True),
    Column("status", String(20), nullable=False),
    Column("at_risk_raised_at", UTCDateTime(), nullable=True),
    Column("breached_at", UTCDateTime(), nullable=True),
    Column("escalation_level", String(20), nullable=True),
    Column("escalated_to", String(40), nullable=True),
    Column("completed_at", UTCDateTime(), nullable=True),
    Column("elapsed_seconds", Float, nullable=True),
    Column("updated_at", UTCDateTime(), nullable=False),
    # the timer's two questions (SlaRepository.due): "breach not raised, deadline passed" and
    # "at-risk not raised, mark passed". The raised flags come before the instant, so a
    # range scan reads only the clocks due now, never the open clocks already breached
    # (they replace (status, due_at) and (status, at_risk_at), which read those too).
    Index("ix_sla_clocks_breach_due", "status", "breached_at", "due_at"),
    Index("ix_sla_clocks_risk_due", "status", "at_risk_raised_at", "breached_at", "at_risk_at"),
)

# every deadline a clock had: the first, then one row per recomputation (priority, pause)
sla_history = Table(
    "sla_history", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_no", String(40), nullable=False, index=True),
    Column("stage", String(20), nullable=False),
    Column("priority", String(1), nullable=False),
    Column("target_seconds", Float, nullable=False),
    Column("due_at", UTCDateTime(), nullable=True),
    Column("at_risk_at", UTCDateTime(), nullable=True),
    Column("reason", Text, nullable=False),
    Column("changed_at", UTCDateTime(), nullable=False),
)

# waiting on the customer: the clocks stand still from started_at to ended_at
sla_pauses = Table(
    "sla_pauses", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_no", String(40), nullable=False, index=True),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("ended_at", UTCDateTime(), nullable=True),
    Column("reason", Text, nullable=False),
    Column("by", String(60), nullable=False),
)

# the engineer's daily progress reports while a job is open on site
job_reports = Table(
    "job_reports", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_no", String(40), nullable=False, index=True),
    Column("engineer_id", String(40), nullable=True),
    Column("reported_at", UTCDateTime(), nullable=False),
    Column("progress", Text, nullable=False),
    Column("percent", Integer, nullable=True),
)

# events about a ticket that arrived before its ticket_opened was handled (concurrent workers,
# retries): kept and applied when the job opens (contact, priority change, cancellation)
early_events = Table(
    "early_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_no", String(40), nullable=False, index=True),
    Column("event_type", String(100), nullable=False),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("data", JSON, nullable=False),
)

# 0004: tickets opened without a visit (consultation …), kept so that a reclassification into
# a visit category opens their job; the row goes when the job opens or the ticket ends
tickets_without_visit = Table(
    "tickets_without_visit", metadata,
    Column("ticket_no", String(40), primary_key=True),
    Column("branch", String(20), nullable=False),
    Column("opened_event_id", String(36), nullable=False),
    Column("ticket", JSON, nullable=False),          # domain.visits.KeptTicket.as_doc()
)

# 0009: the job's evidence, photos from site and the customer's signature (the bytes are in
# the evidence store, adapters/evidence.py, under their SHA-256; one row per job and image)
job_evidence = Table(
    "job_evidence", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_no", String(40), nullable=False),
    Column("kind", String(20), nullable=False),              # photo | signature
    Column("sha256", String(64), nullable=False),
    Column("content_type", String(40), nullable=False),
    Column("size", Integer, nullable=False),
    Column("uploaded_by", String(100), nullable=False),      # the key's subject (actor)
    Column("uploaded_at", UTCDateTime(), nullable=False),
    Column("taken_at", UTCDateTime(), nullable=True),
    Column("caption", Text, nullable=True),
    Column("signed_by", String(100), nullable=True),         # a signature: the signer's name
    UniqueConstraint("ticket_no", "kind", "sha256", name="uq_job_evidence_ticket_kind_sha256"),
)
