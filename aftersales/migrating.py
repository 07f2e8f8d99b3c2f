"""What every service's migrations share: the reliability tables of :mod:`aftersales.outbox`
(``inbox``, ``outbox``, ``revoked_keys``) as the database holds them, created and dropped
through Alembic's ``op``. One definition here, so the four services' first migrations do not
each carry a copy."""
from __future__ import annotations

import sqlalchemy as sa


def create_inbox_outbox(op) -> None:
    """The inbox (ids of consumed events) and the outbox (events to publish), with the index
    the relay reads by."""
    op.create_table("inbox",
                    sa.Column("event_id", sa.String(length=36), nullable=False),
                    sa.Column("event_type", sa.String(length=100), nullable=False),
                    sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint("event_id"))
    op.create_table("outbox",
                    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column("event_id", sa.String(length=36), nullable=False),
                    sa.Column("exchange", sa.String(length=200), nullable=False),
                    sa.Column("routing_key", sa.String(length=200), nullable=False),
                    sa.Column("body", sa.Text(), nullable=False),
                    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
                    sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
                    sa.Column("attempts", sa.Integer(), nullable=False),
                    sa.Column("last_error", sa.Text(), nullable=True),
                    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
                    sa.PrimaryKeyConstraint("id"),
                    sa.UniqueConstraint("event_id"))
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_published_at"), ["published_at"],
                              unique=False)


def drop_inbox_outbox(op) -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_published_at"))
    op.drop_table("outbox")
    op.drop_table("inbox")


def create_revoked_keys(op) -> None:
    """Key ids revoked with ``aftersales keys revoke`` (the ``key_revoked`` event)."""
    op.create_table("revoked_keys",
                    sa.Column("kid", sa.String(length=64), nullable=False),
                    sa.Column("subject", sa.String(length=64), nullable=True),
                    sa.Column("reason", sa.Text(), nullable=True),
                    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint("kid"))


def create_inbox_prune_index(op) -> None:
    """``ix_inbox_processed_at``: the relay's prune deletes the ids older than the inbox
    retention by a range on it, instead of reading the whole inbox every time."""
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbox_processed_at"), ["processed_at"], unique=False)


def drop_inbox_prune_index(op) -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbox_processed_at"))
