"""case rating: 好差评 of a case and its 差评 follow-up (services/platform/ratings.py)

Revision ID: 0013_case_rating
Revises: 0012_staff_opened
"""
import sqlalchemy as sa
from alembic import op

revision = '0013_case_rating'
down_revision = '0012_staff_opened'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'case_rating',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('rated_by', sa.String(length=100), nullable=False),
        sa.Column('grade', sa.Integer(), nullable=False),
        sa.Column('comment', sa.String(length=500), nullable=False),
        sa.Column('rated_at', sa.DateTime(), nullable=False),
        sa.Column('followup_instance_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'],
                                name=op.f('fk_case_rating_instance_id_process_instance')),
        sa.ForeignKeyConstraint(['followup_instance_id'], ['process_instance.id'],
                                name=op.f('fk_case_rating_followup_instance_id_process_instance')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_case_rating')),
    )
    op.create_index(op.f('ix_case_rating_instance_id'), 'case_rating', ['instance_id'])


def downgrade() -> None:
    op.drop_table('case_rating')
