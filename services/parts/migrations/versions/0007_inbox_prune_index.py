"""inbox: an index on processed_at for the relay's prune (aftersales.migrating)

Revision ID: 0007
Revises: 0006
"""
from alembic import op

from aftersales.migrating import create_inbox_prune_index, drop_inbox_prune_index


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_inbox_prune_index(op)


def downgrade() -> None:
    drop_inbox_prune_index(op)
