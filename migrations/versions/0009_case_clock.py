"""case clock: the state and due dates of a case's legal time limits (engine/case_clock.py), and
the reminders sent about them (case_reminder)

Revision ID: 0009_case_clock
Revises: 0008_case_status
"""
import sqlalchemy as sa
from alembic import op

revision = '0009_case_clock'
down_revision = '0008_case_status'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('process_instance') as batch:
        batch.add_column(sa.Column('clock_state', sa.String(length=10), nullable=False, server_default=''))
        batch.add_column(sa.Column('clock_started_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('clock_paused_since', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('clock_paused_days', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('clock_pause_reason', sa.String(length=500), nullable=False, server_default=''))
        batch.add_column(sa.Column('statutory_due_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('promised_due_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('clock_due_at', sa.DateTime(), nullable=True))
    op.create_index('ix_instance_clock', 'process_instance', ['clock_state', 'clock_due_at'])
    op.create_table(
        'case_reminder',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], ondelete='CASCADE',
                                name=op.f('fk_case_reminder_instance_id_process_instance')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_case_reminder')),
        sa.UniqueConstraint('instance_id', 'kind', name=op.f('uq_case_reminder_instance_id')),
    )


def downgrade() -> None:
    op.drop_table('case_reminder')
    op.drop_index('ix_instance_clock', table_name='process_instance')
    with op.batch_alter_table('process_instance') as batch:
        for name in ('clock_due_at', 'promised_due_at', 'statutory_due_at', 'clock_pause_reason', 'clock_paused_days', 'clock_paused_since',
                     'clock_started_at', 'clock_state'):
            batch.drop_column(name)
