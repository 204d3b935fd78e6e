"""signers: 加签 tasks and completions held for them (engine/signers.py)

Revision ID: 0015_signers
Revises: 0014_urge_cc
"""
import sqlalchemy as sa
from alembic import op

revision = '0015_signers'
down_revision = '0014_urge_cc'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'task_signer',
        sa.Column('task_id', sa.String(length=36), nullable=False),
        sa.Column('step_task_id', sa.String(length=36), nullable=False),
        sa.Column('mode', sa.String(length=10), nullable=False),
        sa.Column('added_by', sa.String(length=100), nullable=False),
        sa.Column('added_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['task_id'], ['human_task.id'], name=op.f('fk_task_signer_task_id_human_task')),
        sa.PrimaryKeyConstraint('task_id', name=op.f('pk_task_signer')),
    )
    op.create_index(op.f('ix_task_signer_step_task_id'), 'task_signer', ['step_task_id'])
    op.create_table(
        'held_completion',
        sa.Column('task_id', sa.String(length=36), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('held_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['task_id'], ['human_task.id'], name=op.f('fk_held_completion_task_id_human_task')),
        sa.PrimaryKeyConstraint('task_id', name=op.f('pk_held_completion')),
    )


def downgrade() -> None:
    op.drop_table('held_completion')
    op.drop_table('task_signer')
