"""The console's tables (its own database; no other service reads them): people and their
sessions."""
from sqlalchemy import Boolean, Column, ForeignKey, MetaData, String, Table

from aftersales.timecolumns import UTCDateTime

metadata = MetaData()

users = Table(
    "users", metadata,
    Column("login", String(64), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("branch", String(20), nullable=False, index=True),
    Column("role", String(20), nullable=False),
    Column("engineer_id", String(64), nullable=True),
    Column("password_hash", String(255), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

sessions = Table(
    "sessions", metadata,
    Column("token_hash", String(64), primary_key=True),   # SHA-256 of the cookie's token
    Column("login", String(64), ForeignKey("users.login"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False, index=True),
)
