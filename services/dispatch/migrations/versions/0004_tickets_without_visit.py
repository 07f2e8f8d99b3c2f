"""Tickets opened without a visit, kept until a reclassification into a visit category opens
their job (or the ticket ends)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 04:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'tickets_without_visit',
        sa.Column('ticket_no', sa.String(length=40), nullable=False),
        sa.Column('branch', sa.String(length=20), nullable=False),
        sa.Column('opened_event_id', sa.String(length=36), nullable=False),
        sa.Column('ticket', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('ticket_no'),
    )


def downgrade() -> None:
    op.drop_table('tickets_without_visit')
