"""special-work-type review system: audit log, natures of work with their early-retirement rule,
spot checks, early-retirement registrations, attachments; per-person decisions and validity

Revision ID: 0002_domain
Revises: 0001_initial
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_domain'
down_revision = '0001_initial'
branch_labels = None
depends_on = None

NATURES = [  # code, name, accumulated years, minimum age (men, women) — the former rule, seed 000
    ("high_altitude_heavy", "高空和特别繁重体力劳动", 10, 55, 45),
    ("underground", "井下", 9, 55, 45),
    ("high_temperature", "高温", 9, 55, 45),
    ("toxic_hazardous", "其他有害身体健康", 8, 55, 45),
]


def upgrade() -> None:
    op.create_table('audit_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=50), nullable=False),
    sa.Column('target_type', sa.String(length=50), nullable=False),
    sa.Column('target_id', sa.String(length=50), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entry'))
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entry_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_actor'), ['actor'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_target_id'), ['target_id'], unique=False)

    nature = op.create_table('work_nature',
    sa.Column('code', sa.String(length=30), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('required_years', sa.Integer(), nullable=False),
    sa.Column('min_age_male', sa.Integer(), nullable=False),
    sa.Column('min_age_female', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_work_nature'))
    )
    op.bulk_insert(nature, [{"code": c, "name": n, "required_years": y, "min_age_male": m, "min_age_female": f}
                            for c, n, y, m, f in NATURES])

    op.create_table('spot_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('result', sa.String(length=10), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('checked_by', sa.String(length=100), nullable=False),
    sa.Column('checked_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_spot_check_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_spot_check'))
    )
    with op.batch_alter_table('spot_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_spot_check_id_number'), ['id_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_spot_check_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_spot_check_region_code'), ['region_code'], unique=False)
        batch_op.create_index('ix_spot_check_target', ['kind', 'target_id'], unique=False)

    op.create_table('early_retirement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('nature', sa.String(length=30), nullable=False),
    sa.Column('retirement_date', sa.Date(), nullable=False),
    sa.Column('age', sa.Integer(), nullable=False),
    sa.Column('accumulated_years', sa.Float(), nullable=False),
    sa.Column('check_passed', sa.Boolean(), nullable=True),
    sa.Column('check_messages', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('suspicious', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('conclusion', sa.String(length=500), nullable=True),
    sa.Column('spot_check_result', sa.String(length=10), nullable=True),
    sa.Column('registered_by', sa.String(length=100), nullable=False),
    sa.Column('registered_at', sa.DateTime(), nullable=False),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_early_retirement_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_early_retirement'))
    )
    with op.batch_alter_table('early_retirement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_early_retirement_id_number'), ['id_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_early_retirement_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_early_retirement_region_code'), ['region_code'], unique=False)

    op.create_table('attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=50), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('uploaded_by', sa.String(length=100), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['declaration_batch.id'], name=op.f('fk_attachment_batch_id_declaration_batch')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment'))
    )
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachment_batch_id'), ['batch_id'], unique=False)

    with op.batch_alter_table('work_history', schema=None) as batch_op:
        batch_op.add_column(sa.Column('valid', sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table('declared_person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('conclusion', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('decided_by', sa.String(length=100), nullable=True))
        batch_op.create_index('ix_declared_person_batch_status', ['batch_id', 'status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('declared_person', schema=None) as batch_op:
        batch_op.drop_index('ix_declared_person_batch_status')
        batch_op.drop_column('decided_by')
        batch_op.drop_column('conclusion')
    with op.batch_alter_table('work_history', schema=None) as batch_op:
        batch_op.drop_column('valid')
    op.drop_table('attachment')
    op.drop_table('early_retirement')
    op.drop_table('spot_check')
    op.drop_table('work_nature')
    op.drop_table('audit_entry')
