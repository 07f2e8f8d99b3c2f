"""stock_balances: each warehouse and SKU's ledger sums, kept by the ledger's append

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stock_balances',
    sa.Column('warehouse', sa.String(length=20), nullable=False),
    sa.Column('sku', sa.String(length=40), nullable=False),
    sa.Column('on_hand', sa.Integer(), server_default='0', nullable=False),
    sa.Column('reserved', sa.Integer(), server_default='0', nullable=False),
    sa.Column('issued', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['sku'], ['parts.sku'], ),
    sa.PrimaryKeyConstraint('warehouse', 'sku')
    )
    # the ledger's sums as they stand; an instance of an older release still running would
    # append without its balance, so every parts instance is upgraded together
    op.execute("INSERT INTO stock_balances (warehouse, sku, on_hand, reserved, issued) "
               "SELECT warehouse, sku, SUM(quantity), SUM(reserved), SUM(issued) "
               "FROM stock_ledger GROUP BY warehouse, sku")


def downgrade() -> None:
    op.drop_table('stock_balances')
