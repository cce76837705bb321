"""bulk_job: Bulk Edit and Bulk mail batches run by the worker

Revision ID: 0022_bulk_jobs
Revises: 0021_call_record_partitions
Create Date: 2026-12-01 14:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = '0022_bulk_jobs'
down_revision = '0021_call_record_partitions'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('bulk_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('parameters', sa.Text(), nullable=False),
    sa.Column('selection', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('total', sa.Integer(), nullable=True),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('result', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=300), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_ip', sa.String(length=45), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("kind IN ('edit', 'mail')", name=op.f('ck_bulk_job_kind')),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name=op.f('ck_bulk_job_status')),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff_user.id'], name=op.f('fk_bulk_job_created_by_id_staff_user'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulk_job'))
    )
    op.create_index('ix_bulk_job_status_id', 'bulk_job', ['status', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_bulk_job_status_id', table_name='bulk_job')
    op.drop_table('bulk_job')
