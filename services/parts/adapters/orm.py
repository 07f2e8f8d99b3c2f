"""Parts' tables (its own database; no other service reads them)."""
from sqlalchemy import (Column, DateTime, ForeignKey, Index, Integer, MetaData, Numeric, String,
                        Table)

metadata = MetaData()

parts = Table(
    "parts", metadata,
    Column("sku", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("unit", String(20), nullable=False),
    Column("cost_price", Numeric(12, 2), nullable=False),
    Column("price", Numeric(12, 2), nullable=False),
)

# Append-only: rows are inserted, never updated or deleted. On-hand is their sum.
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
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_stock_ledger_warehouse_sku", "warehouse", "sku"),
)
