"""inbox: an index on processed_at for the relay's prune (aftersales.migrating)

Revision ID: 0005
Revises: 0004
"""
from alembic import op

from aftersales.migrating import create_inbox_prune_index, drop_inbox_prune_index


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_inbox_prune_index(op)


def downgrade() -> None:
    drop_inbox_prune_index(op)
