"""completed_jobs: the tickets whose job was completed (a late parts request reserves nothing)

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('completed_jobs',
    sa.Column('ticket_no', sa.String(length=40), nullable=False),
    sa.Column('branch', sa.String(length=20), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('ticket_no')
    )


def downgrade() -> None:
    op.drop_table('completed_jobs')
