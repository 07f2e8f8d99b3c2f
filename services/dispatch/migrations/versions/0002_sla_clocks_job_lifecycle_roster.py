"""SLA clocks (with history and pauses), the whole on-site job, progress reports, early
events, and the roster's zone, skill levels, shift and leave

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 18:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
JOB_COLUMNS = [
    ("in_warranty", sa.Boolean()), ("zone_hint", sa.String(200)),
    ("appointment_from", TZ), ("appointment_to", TZ), ("en_route_at", TZ),
    ("diagnosis", sa.JSON()), ("quote", sa.JSON()), ("signed_off_at", TZ), ("closed_at", TZ),
    ("cancelled_at", TZ), ("visits", sa.Integer()), ("rework_count", sa.Integer()),
    ("declined_by", sa.JSON()), ("last_report_at", TZ), ("report_reminded_at", TZ),
]
ENGINEER_COLUMNS = [("zone", sa.String(40)), ("skill_levels", sa.JSON()), ("shift", sa.JSON()),
                    ("leave", sa.JSON())]


def upgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        for name, type_ in JOB_COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
    with op.batch_alter_table('engineers', schema=None) as batch_op:
        for name, type_ in ENGINEER_COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))

    op.create_table('sla_clocks',
    sa.Column('ticket_no', sa.String(length=40), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('branch', sa.String(length=20), nullable=False),
    sa.Column('priority', sa.String(length=1), nullable=False),
    sa.Column('received_at', TZ, nullable=False),
    sa.Column('target_seconds', sa.Float(), nullable=False),
    sa.Column('working', sa.Boolean(), nullable=False),
    sa.Column('due_at', TZ, nullable=True),
    sa.Column('at_risk_at', TZ, nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('at_risk_raised_at', TZ, nullable=True),
    sa.Column('breached_at', TZ, nullable=True),
    sa.Column('escalation_level', sa.String(length=20), nullable=True),
    sa.Column('escalated_to', sa.String(length=40), nullable=True),
    sa.Column('completed_at', TZ, nullable=True),
    sa.Column('elapsed_seconds', sa.Float(), nullable=True),
    sa.Column('updated_at', TZ, nullable=False),
    sa.PrimaryKeyConstraint('ticket_no', 'stage')
    )
    with op.batch_alter_table('sla_clocks', schema=None) as batch_op:
        batch_op.create_index('ix_sla_clocks_status_due', ['status', 'due_at'], unique=False)
        batch_op.create_index('ix_sla_clocks_status_risk', ['status', 'at_risk_at'], unique=False)

    op.create_table('sla_history',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('ticket_no', sa.String(length=40), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('priority', sa.String(length=1), nullable=False),
    sa.Column('target_seconds', sa.Float(), nullable=False),
    sa.Column('due_at', TZ, nullable=True),
    sa.Column('at_risk_at', TZ, nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('changed_at', TZ, nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sla_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sla_history_ticket_no'), ['ticket_no'], unique=False)

    op.create_table('sla_pauses',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('ticket_no', sa.String(length=40), nullable=False),
    sa.Column('started_at', TZ, nullable=False),
    sa.Column('ended_at', TZ, nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('by', sa.String(length=60), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sla_pauses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sla_pauses_ticket_no'), ['ticket_no'], unique=False)

    op.create_table('job_reports',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('ticket_no', sa.String(length=40), nullable=False),
    sa.Column('engineer_id', sa.String(length=40), nullable=True),
    sa.Column('reported_at', TZ, nullable=False),
    sa.Column('progress', sa.Text(), nullable=False),
    sa.Column('percent', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('job_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_reports_ticket_no'), ['ticket_no'], unique=False)

    op.create_table('early_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('ticket_no', sa.String(length=40), nullable=False),
    sa.Column('event_type', sa.String(length=100), nullable=False),
    sa.Column('occurred_at', TZ, nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('early_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_early_events_ticket_no'), ['ticket_no'], unique=False)


def downgrade() -> None:
    for table in ('early_events', 'job_reports', 'sla_pauses', 'sla_history', 'sla_clocks'):
        op.drop_table(table)
    with op.batch_alter_table('engineers', schema=None) as batch_op:
        for name, _ in ENGINEER_COLUMNS:
            batch_op.drop_column(name)
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        for name, _ in JOB_COLUMNS:
            batch_op.drop_column(name)
