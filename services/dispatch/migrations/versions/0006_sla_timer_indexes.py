"""sla_clocks: indexes for the SLA timer's two bounded questions (breach due, at-risk due), replacing (status, due_at) and (status, at_risk_at)

Revision ID: 0006
Revises: 0005
"""
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_sla_clocks_status_due', table_name='sla_clocks')
    op.drop_index('ix_sla_clocks_status_risk', table_name='sla_clocks')
    op.create_index('ix_sla_clocks_breach_due', 'sla_clocks',
                    ['status', 'breached_at', 'due_at'])
    op.create_index('ix_sla_clocks_risk_due', 'sla_clocks',
                    ['status', 'at_risk_raised_at', 'breached_at', 'at_risk_at'])


def downgrade() -> None:
    op.drop_index('ix_sla_clocks_risk_due', table_name='sla_clocks')
    op.drop_index('ix_sla_clocks_breach_due', table_name='sla_clocks')
    op.create_index('ix_sla_clocks_status_risk', 'sla_clocks', ['status', 'at_risk_at'])
    op.create_index('ix_sla_clocks_status_due', 'sla_clocks', ['status', 'due_at'])
