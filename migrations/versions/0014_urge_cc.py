"""urges and carbon copies: 催办 of a step, 抄送 of a case (services/platform/urges.py, carbon_copies.py)

Revision ID: 0014_urge_cc
Revises: 0013_case_rating
"""
import sqlalchemy as sa
from alembic import op

revision = '0014_urge_cc'
down_revision = '0013_case_rating'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'carbon_copy',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('recipient', sa.String(length=100), nullable=False),
        sa.Column('step', sa.String(length=200), nullable=False),
        sa.Column('sent_by', sa.String(length=100), nullable=False),
        sa.Column('note', sa.String(length=500), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('read_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'],
                                name=op.f('fk_carbon_copy_instance_id_process_instance')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_carbon_copy')),
    )
    op.create_index(op.f('ix_carbon_copy_instance_id'), 'carbon_copy', ['instance_id'])
    op.create_index(op.f('ix_carbon_copy_recipient'), 'carbon_copy', ['recipient'])
    op.create_table(
        'task_urge',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('task_id', sa.String(length=36), nullable=False),
        sa.Column('urged_by', sa.String(length=100), nullable=False),
        sa.Column('by_applicant', sa.Boolean(), nullable=False),
        sa.Column('message', sa.String(length=500), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'],
                                name=op.f('fk_task_urge_instance_id_process_instance')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_task_urge')),
    )
    op.create_index(op.f('ix_task_urge_instance_id'), 'task_urge', ['instance_id'])
    op.create_index(op.f('ix_task_urge_task_id'), 'task_urge', ['task_id'])


def downgrade() -> None:
    op.drop_table('task_urge')
    op.drop_table('carbon_copy')
