"""import: uploaded declaration workbooks waiting for their background import job

Also merges the three 0002 heads back into one history.

Revision ID: 0003_import
Revises: 0002_domain, 0002_web, 0002_workers
"""
import sqlalchemy as sa
from alembic import op

revision = '0003_import'
down_revision = ('0002_domain', '0002_web', '0002_workers')
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('declaration_upload',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_code', sa.String(length=30), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('import_valid_rows', sa.Boolean(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('letter_filename', sa.String(length=200), nullable=True),
    sa.Column('letter', sa.LargeBinary(), nullable=True),
    sa.Column('uploaded_by', sa.String(length=100), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_code'], ['enterprise.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_declaration_upload_enterprise_code'), 'declaration_upload', ['enterprise_code'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_declaration_upload_enterprise_code'), table_name='declaration_upload')
    op.drop_table('declaration_upload')
