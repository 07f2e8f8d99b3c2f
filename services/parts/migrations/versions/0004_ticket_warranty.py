"""ticket_warranty: parts' copy of each ticket's warranty decision

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ticket_warranty',
    sa.Column('ticket_no', sa.String(length=40), nullable=False),
    sa.Column('branch', sa.String(length=20), nullable=False),
    sa.Column('in_warranty', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('source', sa.String(length=30), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('ticket_no')
    )


def downgrade() -> None:
    op.drop_table('ticket_warranty')
