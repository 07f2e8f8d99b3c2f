"""Intake's tables (its own database; no other service reads them)."""
from sqlalchemy import (JSON, Column, Date, Integer, MetaData, String, Table, Text,
                        UniqueConstraint, Index)

from aftersales.timecolumns import UTCDateTime

metadata = MetaData()

tickets = Table(
    "tickets", metadata,
    Column("ticket_no", String(40), primary_key=True),
    Column("branch", String(20), nullable=False, index=True),
    Column("source", String(100), nullable=False),
    Column("request_id", String(100), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("priority", String(1), nullable=False),
    Column("category", String(40), nullable=False),
    Column("classification_rule", String(200), nullable=False),
    # the ticket's overall state (what the API shows as "status"), derived from intake_state
    # and the job's latest state on the timeline (domain.model.status_of)
    Column("status", String(20), nullable=False, index=True),
    # what the service desk decided: open, linked, resolved, cancelled (domain.model.INTAKE_STATES)
    Column("intake_state", String(20), nullable=False, server_default="open"),
    Column("linked_to", String(40), nullable=True),
    Column("serial_no", String(100), nullable=True),
    Column("first_contact_at", UTCDateTime(), nullable=True),
    Column("customer_phone", String(40), nullable=False, index=True),
    Column("warranty_status", String(20), nullable=False),
    Column("warranty_ends_on", Date, nullable=True),
    Column("warranty_component", String(40), nullable=True),
    Column("request", JSON, nullable=False),
    Column("opened_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("source", "request_id", name="uq_tickets_source_request"),
    # the open ticket of an asset (TicketRepository.open_for_serial): the three equalities and
    # the order, so both planners take it whatever their statistics (migration 0005)
    Index("ix_tickets_serial_open", "serial_no", "branch", "intake_state", "opened_at"),
)

ticket_sequences = Table(
    "ticket_sequences", metadata,
    Column("branch", String(20), primary_key=True),
    Column("day", String(8), primary_key=True),
    Column("last_no", Integer, nullable=False),
)

timeline = Table(
    "timeline", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_no", String(40), nullable=False),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("type", String(100), nullable=False),
    Column("source", String(40), nullable=False),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("data", JSON, nullable=False),
    Index("ix_timeline_ticket", "ticket_no", "occurred_at"),
)

rejections = Table(
    "rejections", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(100), nullable=True),
    Column("request_id", String(100), nullable=True),
    Column("errors", JSON, nullable=False),
    Column("rejected_at", UTCDateTime(), nullable=False),
)

assets = Table(
    "assets", metadata,
    Column("serial_no", String(100), primary_key=True),
    Column("model", String(100), nullable=False),
    Column("component_category", String(40), nullable=False),
    Column("acceptance_date", Date, nullable=False),
    Column("manufacturer_term_months", Integer, nullable=True),
    Column("branch", String(20), nullable=True),
    Column("customer", String(200), nullable=True),
    Column("site", Text, nullable=True),
    Column("project", String(200), nullable=True),
)
