"""revoked_keys: API key ids revoked with `aftersales keys revoke` (the key_revoked event)

Revision ID: 0003
Revises: 0002
"""
from alembic import op

from aftersales.migrating import create_revoked_keys


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_revoked_keys(op)


def downgrade() -> None:
    op.drop_table('revoked_keys')
