"""Feedback's tables (its own database; no other service reads them)."""
from sqlalchemy import Boolean, Column, DateTime, MetaData, SmallInteger, String, Table, Text

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
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    # the answer (one per survey): NULL until the customer answers
    Column("answered_at", DateTime(timezone=True), nullable=True),
    *[Column(f"score_{d}", SmallInteger, nullable=True) for d in DIMENSIONS],
    Column("recommend", SmallInteger, nullable=True),
    Column("comment", Text, nullable=True),
    Column("follow_up_required", Boolean, nullable=False, default=False),
)
