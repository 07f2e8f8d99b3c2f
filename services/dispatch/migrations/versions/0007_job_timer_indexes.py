"""jobs: indexes for the timer's acceptance timeouts (status, assigned_at) and missing progress reports (status, last_report_at)

Revision ID: 0007
Revises: 0006
"""
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_jobs_status_assigned_at', 'jobs', ['status', 'assigned_at'])
    op.create_index('ix_jobs_status_last_report_at', 'jobs', ['status', 'last_report_at'])


def downgrade() -> None:
    op.drop_index('ix_jobs_status_last_report_at', table_name='jobs')
    op.drop_index('ix_jobs_status_assigned_at', table_name='jobs')
