"""case document: printed documents (services/platform/documents.py)

Revision ID: 0011_case_document
Revises: 0010_query_code
"""
import sqlalchemy as sa
from alembic import op

revision = '0011_case_document'
down_revision = '0010_query_code'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'case_document',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('number', sa.String(length=100), nullable=False),
        sa.Column('title', sa.String(length=100), nullable=False),
        sa.Column('verify_code', sa.String(length=16), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.Column('issued_by', sa.String(length=100), nullable=False),
        sa.Column('issued_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'],
                                name=op.f('fk_case_document_instance_id_process_instance')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_case_document')),
        sa.UniqueConstraint('number', name=op.f('uq_case_document_number')),
        sa.UniqueConstraint('verify_code', name=op.f('uq_case_document_verify_code')),
    )
    op.create_index('ix_document_instance', 'case_document', ['instance_id', 'kind'])


def downgrade() -> None:
    op.drop_table('case_document')
