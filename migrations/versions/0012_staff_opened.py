"""staff opened: when staff first opened a case (until then its applicant may withdraw it)

Revision ID: 0012_staff_opened
Revises: 0011_case_document
"""
import sqlalchemy as sa
from alembic import op

revision = '0012_staff_opened'
down_revision = '0011_case_document'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('process_instance') as batch:
        batch.add_column(sa.Column('staff_opened_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('process_instance') as batch:
        batch.drop_column('staff_opened_at')
