"""number sequence: one counter per number scope (engine/numbering.py)

Revision ID: 0007_number_sequence
Revises: 0006_case_summary
"""
import sqlalchemy as sa
from alembic import op

revision = '0007_number_sequence'
down_revision = '0006_case_summary'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'number_sequence',
        sa.Column('scope', sa.String(length=200), nullable=False),
        sa.Column('last_value', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('scope', name=op.f('pk_number_sequence')),
    )


def downgrade() -> None:
    op.drop_table('number_sequence')
