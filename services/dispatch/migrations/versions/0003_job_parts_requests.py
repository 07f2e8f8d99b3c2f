"""The job's parts requests (status, approved lines with unit prices, totals, expected
arrival) as the parts service reports them

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 19:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parts_requests', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('parts_requests')
