"""instance started_by index: 我的办件 lists the cases a user started, newest first

Revision ID: 0006_instance_started_by
Revises: 0005_definition_forms
"""
from alembic import op

revision = '0006_instance_started_by'
down_revision = '0005_definition_forms'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_instance_started_by', 'process_instance', ['started_by', 'id'])


def downgrade() -> None:
    op.drop_index('ix_instance_started_by', table_name='process_instance')
