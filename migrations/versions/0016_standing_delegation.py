"""standing delegation: 委托 of a user's tasks to a colleague for a date range

Revision ID: 0016_standing_delegation
Revises: 0015_signers
"""
import sqlalchemy as sa
from alembic import op

revision = '0016_standing_delegation'
down_revision = '0015_signers'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'standing_delegation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('delegator', sa.String(length=100), nullable=False),
        sa.Column('delegate', sa.String(length=100), nullable=False),
        sa.Column('process_keys', sa.JSON(), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_standing_delegation')),
    )
    op.create_index(op.f('ix_standing_delegation_delegator'), 'standing_delegation', ['delegator'])


def downgrade() -> None:
    op.drop_table('standing_delegation')
