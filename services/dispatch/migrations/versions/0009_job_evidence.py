"""job_evidence: a job's photos and the customer's signature (the bytes are in the evidence
store, by SHA-256); jobs.signed_by: who signed the work off

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

TZ = sa.DateTime(timezone=True)


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'job_evidence',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('ticket_no', sa.String(length=40), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('content_type', sa.String(length=40), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('uploaded_by', sa.String(length=100), nullable=False),
        sa.Column('uploaded_at', TZ, nullable=False),
        sa.Column('taken_at', TZ, nullable=True),
        sa.Column('caption', sa.Text(), nullable=True),
        sa.Column('signed_by', sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('ticket_no', 'kind', 'sha256',
                            name='uq_job_evidence_ticket_kind_sha256'),
    )
    with op.batch_alter_table('jobs') as batch:
        batch.add_column(sa.Column('signed_by', sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('jobs') as batch:
        batch.drop_column('signed_by')
    op.drop_table('job_evidence')
