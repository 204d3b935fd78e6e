"""case attachments (申请材料 of filepicker fields) and the human-resources market system's tables:
hr_organisation (机构登记), hr_licence (人力资源服务许可证), hr_filing (业务备案), hr_annual_report (年度报告),
hr_change_record (事项变更), hr_job_fair (现场招聘会) and hr_licence_cancellation (注销单位行政许可)

Revision ID: 0017_hr_market
Revises: 0016_standing_delegation
"""
import sqlalchemy as sa
from alembic import op

revision = '0017_hr_market'
down_revision = '0016_standing_delegation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('hr_organisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('credit_code', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('legal_representative', sa.String(length=50), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('contact_person', sa.String(length=50), nullable=False),
    sa.Column('contact_phone', sa.String(length=30), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['hr_organisation.id'], name=op.f('fk_hr_organisation_parent_id_hr_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hr_organisation')),
    sa.UniqueConstraint('credit_code', name=op.f('uq_hr_organisation_credit_code'))
    )
    with op.batch_alter_table('hr_organisation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hr_organisation_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_hr_organisation_region_code'), ['region_code'], unique=False)

    op.create_table('case_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('field', sa.String(length=100), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=50), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('uploaded_by', sa.String(length=100), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.Column('step', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_case_attachment_instance_id_process_instance')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_attachment'))
    )
    with op.batch_alter_table('case_attachment', schema=None) as batch_op:
        batch_op.create_index('ix_case_attachment_instance', ['instance_id'], unique=False)

    op.create_table('hr_licence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('licence_number', sa.String(length=40), nullable=False),
    sa.Column('document_number', sa.String(length=100), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('cancelled_on', sa.Date(), nullable=True),
    sa.Column('cancel_mode', sa.String(length=20), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('granted_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_hr_licence_instance_id_process_instance')),
    sa.ForeignKeyConstraint(['organisation_id'], ['hr_organisation.id'], name=op.f('fk_hr_licence_organisation_id_hr_organisation')),
    sa.ForeignKeyConstraint(['parent_id'], ['hr_licence.id'], name=op.f('fk_hr_licence_parent_id_hr_licence')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hr_licence')),
    sa.UniqueConstraint('licence_number', name=op.f('uq_hr_licence_licence_number'))
    )
    with op.batch_alter_table('hr_licence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hr_licence_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('hr_filing',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('filing_number', sa.String(length=40), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('filed_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('cancelled_on', sa.Date(), nullable=True),
    sa.Column('cancel_mode', sa.String(length=20), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_hr_filing_instance_id_process_instance')),
    sa.ForeignKeyConstraint(['organisation_id'], ['hr_organisation.id'], name=op.f('fk_hr_filing_organisation_id_hr_organisation')),
    sa.ForeignKeyConstraint(['parent_id'], ['hr_filing.id'], name=op.f('fk_hr_filing_parent_id_hr_filing')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hr_filing')),
    sa.UniqueConstraint('filing_number', name=op.f('uq_hr_filing_filing_number'))
    )
    with op.batch_alter_table('hr_filing', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hr_filing_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('hr_annual_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(), nullable=False),
    sa.Column('reviewed_on', sa.Date(), nullable=True),
    sa.Column('reviewed_by', sa.String(length=100), nullable=False),
    sa.Column('return_reason', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_hr_annual_report_instance_id_process_instance')),
    sa.ForeignKeyConstraint(['organisation_id'], ['hr_organisation.id'], name=op.f('fk_hr_annual_report_organisation_id_hr_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hr_annual_report')),
    sa.UniqueConstraint('organisation_id', 'year', name='uq_hr_annual_report_year')
    )
    with op.batch_alter_table('hr_annual_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hr_annual_report_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('hr_change_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('field', sa.String(length=30), nullable=False),
    sa.Column('before', sa.String(length=500), nullable=False),
    sa.Column('after', sa.String(length=500), nullable=False),
    sa.Column('changed_on', sa.Date(), nullable=False),
    sa.Column('changed_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_hr_change_record_instance_id_process_instance')),
    sa.ForeignKeyConstraint(['organisation_id'], ['hr_organisation.id'], name=op.f('fk_hr_change_record_organisation_id_hr_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hr_change_record'))
    )
    with op.batch_alter_table('hr_change_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hr_change_record_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('hr_job_fair',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('venue', sa.String(length=200), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('booths', sa.Integer(), nullable=True),
    sa.Column('contact_person', sa.String(length=50), nullable=False),
    sa.Column('contact_phone', sa.String(length=30), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['hr_organisation.id'], name=op.f('fk_hr_job_fair_organisation_id_hr_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hr_job_fair'))
    )
    with op.batch_alter_table('hr_job_fair', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hr_job_fair_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hr_job_fair_region_code'), ['region_code'], unique=False)

    op.create_table('hr_licence_cancellation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('licence_id', sa.Integer(), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('whole', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('basis', sa.String(length=200), nullable=False),
    sa.Column('cancelled_on', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('cancelled_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['licence_id'], ['hr_licence.id'], name=op.f('fk_hr_licence_cancellation_licence_id_hr_licence')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hr_licence_cancellation'))
    )
    with op.batch_alter_table('hr_licence_cancellation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hr_licence_cancellation_licence_id'), ['licence_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('hr_job_fair', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hr_job_fair_region_code'))
        batch_op.drop_index(batch_op.f('ix_hr_job_fair_organisation_id'))

    op.drop_table('hr_job_fair')
    with op.batch_alter_table('hr_change_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hr_change_record_organisation_id'))

    op.drop_table('hr_change_record')
    with op.batch_alter_table('hr_annual_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hr_annual_report_organisation_id'))

    op.drop_table('hr_annual_report')
    with op.batch_alter_table('hr_licence_cancellation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hr_licence_cancellation_licence_id'))

    op.drop_table('hr_licence_cancellation')
    with op.batch_alter_table('hr_filing', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hr_filing_organisation_id'))

    op.drop_table('hr_filing')
    with op.batch_alter_table('hr_licence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hr_licence_organisation_id'))

    op.drop_table('hr_licence')
    with op.batch_alter_table('case_attachment', schema=None) as batch_op:
        batch_op.drop_index('ix_case_attachment_instance')

    op.drop_table('case_attachment')
    with op.batch_alter_table('hr_organisation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hr_organisation_region_code'))
        batch_op.drop_index(batch_op.f('ix_hr_organisation_name'))

    op.drop_table('hr_organisation')
