"""query code: the 查询码 of a case (engine/query_code.py), unique

Revision ID: 0010_query_code
Revises: 0009_case_clock
"""
import sqlalchemy as sa
from alembic import op

revision = '0010_query_code'
down_revision = '0009_case_clock'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('process_instance') as batch:
        batch.add_column(sa.Column('query_code', sa.String(length=16), nullable=True))
        batch.create_unique_constraint(batch.f('uq_process_instance_query_code'), ['query_code'])


def downgrade() -> None:
    with op.batch_alter_table('process_instance') as batch:
        batch.drop_constraint(batch.f('uq_process_instance_query_code'), type_='unique')
        batch.drop_column('query_code')
