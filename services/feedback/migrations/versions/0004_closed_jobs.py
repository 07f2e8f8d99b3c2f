"""closed_jobs: the table "jobs" renamed for what it holds (each ticket's customer and its
closed job's outcome), with its indexes; rows are kept

Revision ID: 0004
Revises: 0003
"""
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

INDEXED = ('branch', 'closed_at', 'engineer_id')


def _rename(old: str, new: str) -> None:
    op.rename_table(old, new)
    if op.get_bind().dialect.name == 'postgresql':   # SQLite's primary key has no name
        op.execute(f'ALTER INDEX {old}_pkey RENAME TO {new}_pkey')
    with op.batch_alter_table(new, schema=None) as batch_op:
        for column in INDEXED:
            batch_op.drop_index(f'ix_{old}_{column}')
            batch_op.create_index(f'ix_{new}_{column}', [column], unique=False)


def upgrade() -> None:
    _rename('jobs', 'closed_jobs')


def downgrade() -> None:
    _rename('closed_jobs', 'jobs')
