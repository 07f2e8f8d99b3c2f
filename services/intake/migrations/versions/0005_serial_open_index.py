"""the open ticket of an asset: one composite index (serial, branch, intake_state, opened_at)
in place of the serial-only index, so that open_for_serial uses it on SQLite and PostgreSQL
whatever the statistics (SQLite without ANALYZE preferred ix_tickets_branch: a scan of the
branch's tickets per request)

Revision ID: 0005
Revises: 0004
"""
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_serial_open',
                              ['serial_no', 'branch', 'intake_state', 'opened_at'], unique=False)
        batch_op.drop_index('ix_tickets_serial_no')


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_serial_no', ['serial_no'], unique=False)
        batch_op.drop_index('ix_tickets_serial_open')
