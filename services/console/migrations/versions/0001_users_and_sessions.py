"""users and sessions (and the reliability tables every service has)

Revision ID: 0001
Revises:
Create Date: 2026-12-04 20:50:00
"""
from alembic import op
import sqlalchemy as sa

from aftersales.migrating import (create_inbox_outbox, create_inbox_prune_index,
                                  create_revoked_keys, drop_inbox_outbox, drop_inbox_prune_index)

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_inbox_outbox(op)
    create_revoked_keys(op)
    create_inbox_prune_index(op)
    op.create_table('users',
                    sa.Column('login', sa.String(length=64), nullable=False),
                    sa.Column('name', sa.String(length=100), nullable=False),
                    sa.Column('branch', sa.String(length=20), nullable=False),
                    sa.Column('role', sa.String(length=20), nullable=False),
                    sa.Column('engineer_id', sa.String(length=64), nullable=True),
                    sa.Column('password_hash', sa.String(length=255), nullable=False),
                    sa.Column('active', sa.Boolean(), nullable=False),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('login'))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_branch'), ['branch'], unique=False)
    op.create_table('sessions',
                    sa.Column('token_hash', sa.String(length=64), nullable=False),
                    sa.Column('login', sa.String(length=64), nullable=False),
                    sa.Column('csrf_token', sa.String(length=64), nullable=False),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
                    sa.ForeignKeyConstraint(['login'], ['users.login']),
                    sa.PrimaryKeyConstraint('token_hash'))
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sessions_login'), ['login'], unique=False)
        batch_op.create_index(batch_op.f('ix_sessions_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sessions_expires_at'))
        batch_op.drop_index(batch_op.f('ix_sessions_login'))
    op.drop_table('sessions')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_branch'))
    op.drop_table('users')
    op.drop_table('revoked_keys')
    drop_inbox_prune_index(op)
    drop_inbox_outbox(op)
