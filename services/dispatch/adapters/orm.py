"""Dispatch's tables (its own database; no other service reads them)."""
from sqlalchemy import (JSON, Boolean, Column, DateTime, Index, Integer, MetaData, String, Table,
                        Text)

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
)

jobs = Table(
    "jobs", metadata,
    Column("ticket_no", String(40), primary_key=True),
    Column("branch", String(20), nullable=False),
    Column("priority", String(1), nullable=False),
    Column("category", String(40), nullable=False),
    Column("product_line", String(40), nullable=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("status", String(20), nullable=False),
    Column("engineer_id", String(40), nullable=True),
    Column("engineer_name", String(100), nullable=True),
    Column("escalated_to", String(40), nullable=True),
    Column("opened_event_id", String(36), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("assigned_at", DateTime(timezone=True), nullable=True),
    Column("accepted_at", DateTime(timezone=True), nullable=True),
    Column("checked_in_at", DateTime(timezone=True), nullable=True),
    Column("completed_at", DateTime(timezone=True), nullable=True),
    Column("summary", Text, nullable=True),
    Column("parts_used", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_jobs_branch_status", "branch", "status"),
    Index("ix_jobs_engineer_status", "engineer_id", "status"),
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
    Column("decided_at", DateTime(timezone=True), nullable=False),
)
