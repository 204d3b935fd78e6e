"""case status: the 办件状态 code its process's steps set (engine/lifecycle.py)

Revision ID: 0008_case_status
Revises: 0007_number_sequence
"""
import sqlalchemy as sa
from alembic import op

revision = '0008_case_status'
down_revision = '0007_number_sequence'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('process_instance') as batch:
        batch.add_column(sa.Column('case_status', sa.String(length=30), nullable=False, server_default='received'))


def downgrade() -> None:
    with op.batch_alter_table('process_instance') as batch:
        batch.drop_column('case_status')
