"""Parts' tables (its own database; no other service reads them)."""
from sqlalchemy import (JSON, Boolean, Column, ForeignKey, Index, Integer, MetaData,
                        Numeric, String, Table, Text, text)

from aftersales.timecolumns import UTCDateTime

metadata = MetaData()

# Columns added to existing tables have constant (string) server defaults: SQLite can then add
# them with ALTER TABLE instead of recreating the table (which the ledger's foreign key forbids).

parts = Table(
    "parts", metadata,
    Column("sku", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("unit", String(20), nullable=False),
    Column("cost_price", Numeric(12, 2), nullable=False),
    Column("price", Numeric(12, 2), nullable=False),
    Column("compatible_models", JSON, nullable=False, server_default="[]"),
    Column("lead_time_days", Integer, nullable=False, server_default="14"),
    Column("reorder_point", Integer, nullable=True),
)

# Append-only: rows are inserted, never updated or deleted. On hand is the sum of
# ``quantity``, reserved the sum of ``reserved``, issued the sum of ``issued`` (kept in
# ``stock_balances`` by the same transaction that appends the row).
stock_ledger = Table(
    "stock_ledger", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("warehouse", String(20), nullable=False),
    Column("sku", String(40), ForeignKey("parts.sku"), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("ticket_no", String(40), nullable=True, index=True),
    Column("serial_no", String(100), nullable=True),
    Column("event_id", String(36), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("reserved", Integer, nullable=False, server_default="0"),
    Column("issued", Integer, nullable=False, server_default="0"),
    Column("request_id", String(40), nullable=True, index=True),
    Column("ref", String(40), nullable=True),
    Column("note", Text, nullable=True),
    Column("actor", String(100), nullable=True),
    Index("ix_stock_ledger_warehouse_sku", "warehouse", "sku"),
    Index("ix_stock_ledger_warehouse_created_at", "warehouse", "created_at"),
)

# Per warehouse and SKU: the ledger's sums (on hand = Σ quantity, reserved = Σ reserved,
# issued = Σ issued), updated only by ``LedgerRepository.append`` in the transaction that
# appends the ledger row, so that a position is one row read rather than a sum over the ledger.
stock_balances = Table(
    "stock_balances", metadata,
    Column("warehouse", String(20), primary_key=True),
    Column("sku", String(40), ForeignKey("parts.sku"), primary_key=True),
    Column("on_hand", Integer, nullable=False, server_default="0"),
    Column("reserved", Integer, nullable=False, server_default="0"),
    Column("issued", Integer, nullable=False, server_default="0"),
)

# Per warehouse and SKU: an overriding reorder point and whether available stock is at or
# below it (so that ``reorder_needed`` is raised once per crossing).
reorder_state = Table(
    "reorder_state", metadata,
    Column("warehouse", String(20), primary_key=True),
    Column("sku", String(40), ForeignKey("parts.sku"), primary_key=True),
    Column("reorder_point", Integer, nullable=True),
    Column("below", Boolean, nullable=False, server_default=text("false")),
)

parts_requests = Table(
    "parts_requests", metadata,
    Column("id", String(40), primary_key=True),
    Column("ticket_no", String(40), nullable=False, index=True),
    Column("branch", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("in_warranty", Boolean, nullable=False),
    Column("lines", JSON, nullable=False),
    Column("requested_by", String(100), nullable=False),
    Column("source", String(20), nullable=False),
    Column("source_event_id", String(36), nullable=True, unique=True),
    Column("note", Text, nullable=True),
    Column("decided_by", String(100), nullable=True),
    Column("decided_at", UTCDateTime(), nullable=True),
    Column("auto_approved", Boolean, nullable=False, server_default=text("false")),
    Column("reason", Text, nullable=True),
    Column("history", JSON, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_parts_requests_branch_status", "branch", "status"),
)

backorders = Table(
    "backorders", metadata,
    Column("id", String(40), primary_key=True),
    Column("request_id", String(40), nullable=True, index=True),
    Column("ticket_no", String(40), nullable=True),
    Column("warehouse", String(20), nullable=False),
    Column("sku", String(40), ForeignKey("parts.sku"), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("lead_time_days", Integer, nullable=False),
    Column("expected_at", UTCDateTime(), nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("closed_at", UTCDateTime(), nullable=True),
    Index("ix_backorders_warehouse_status", "warehouse", "status"),
)

transfers = Table(
    "transfers", metadata,
    Column("id", String(40), primary_key=True),
    Column("request_id", String(40), nullable=True, index=True),
    Column("ticket_no", String(40), nullable=True),
    Column("from_warehouse", String(20), nullable=False),
    Column("to_warehouse", String(20), nullable=False),
    Column("lines", JSON, nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expected_at", UTCDateTime(), nullable=False),
    Column("received_at", UTCDateTime(), nullable=True),
    Column("received_by", String(100), nullable=True),
)

part_returns = Table(
    "part_returns", metadata,
    Column("id", String(40), primary_key=True),
    Column("branch", String(20), nullable=False),
    Column("ticket_no", String(40), nullable=True, index=True),
    Column("sku", String(40), nullable=False),
    Column("serial_no", String(100), nullable=True),
    Column("model", String(100), nullable=False, index=True),
    Column("fault", Text, nullable=False),
    Column("status", String(30), nullable=False),
    Column("decision", String(30), nullable=True),
    Column("note", Text, nullable=True),
    Column("received_by", String(100), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("inspected_by", String(100), nullable=True),
    Column("inspected_at", UTCDateTime(), nullable=True),
)
