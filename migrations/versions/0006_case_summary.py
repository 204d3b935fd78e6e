"""case summary: 我的办件 and the case's title, summary and searchable text

- ``ix_instance_started_by`` (started_by, id): 我的办件 lists the cases a user started, newest first.
- ``title`` and ``summary``: what the case is about, from its process's ``caseTitle`` and
  ``summaryFields`` (engine/case_summary.py), shown in the inbox and the case lists.
- On PostgreSQL, a trigram index on ``search_text`` (extension pg_trgm) so that the inbox's search by
  part of an ID number, a name or a business key does not read every case. Where the extension cannot
  be created (no privilege) the search still works, by a scan.

Revision ID: 0006_case_summary
Revises: 0005_definition_forms
"""
import sqlalchemy as sa
from alembic import op

revision = '0006_case_summary'
down_revision = '0005_definition_forms'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('process_instance') as batch:
        batch.add_column(sa.Column('title', sa.String(length=200), nullable=False, server_default=''))
        batch.add_column(sa.Column('summary', sa.String(length=500), nullable=False, server_default=''))
    op.create_index('ix_instance_started_by', 'process_instance', ['started_by', 'id'])
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        has_trgm = bind.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")).first()
        if has_trgm:
            try:
                with bind.begin_nested():
                    bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
            except sa.exc.DBAPIError:
                return  # no privilege: the search scans
            # the operator class by its schema: the database's search_path may not include it
            where = bind.execute(sa.text("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
                                         "ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'")).scalar_one()
            op.execute(f'CREATE INDEX ix_instance_search_trgm ON process_instance '
                       f'USING gin (search_text "{where}".gin_trgm_ops)')


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_instance_search_trgm")
    op.drop_index('ix_instance_started_by', table_name='process_instance')
    with op.batch_alter_table('process_instance') as batch:
        batch.drop_column('summary')
        batch.drop_column('title')
