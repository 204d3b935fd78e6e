"""web: a partial covering index for the inbox's group lists

The inbox reads open tasks of a role in a region range (engine/inbox.py, one UNION ALL part per
role held). This index holds exactly those rows and the columns the list, its count and the home
page's counts per step need, so PostgreSQL answers with index-only scans (bench/inbox_load.py).
SQLite has no INCLUDE: there it is a plain partial index.

Revision ID: 0002_web
Revises: 0001_initial
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_web'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_task_open_group', 'human_task', ['lane', 'region_code', 'created_at', 'id'], unique=False,
                    postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"),
                    postgresql_include=['assignee', 'due_at', 'process_key', 'name', 'label'])


def downgrade() -> None:
    op.drop_index('ix_task_open_group', table_name='human_task')
