"""definition forms: each deployed version keeps the forms it uses

A definition stores the JSON of every form its steps name (user tasks and the start event), taken
from forms/ at deploy time, and its content hash covers them: editing a form deploys version N+1,
and running cases go on with their own version's forms. Versions deployed before this migration have
none stored and use the current files (as before).

Revision ID: 0005_definition_forms
Revises: 0004_auth_sessions
"""
import sqlalchemy as sa
from alembic import op

revision = '0005_definition_forms'
down_revision = '0004_auth_sessions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('process_definition') as batch:
        batch.add_column(sa.Column('forms', sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('process_definition') as batch:
        batch.drop_column('forms')
