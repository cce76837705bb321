"""call records, their hourly roll-up, and the roll-up's state

Revision ID: 0005_calls
Revises: 0004_numbering
Create Date: 2026-11-22 04:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005_calls'
down_revision = '0004_numbering'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('call_record',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('call_id', sa.String(length=128), nullable=False),
    sa.Column('start_time', sa.DateTime(), nullable=False),
    sa.Column('destination', sa.String(length=64), nullable=False),
    sa.Column('answered', sa.Boolean(), nullable=False),
    sa.Column('duration_seconds', sa.Integer(), nullable=False),
    sa.Column('billed_seconds', sa.Integer(), nullable=False),
    sa.Column('rate', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('cost', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('charge', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('billed_seconds >= 0', name=op.f('ck_call_record_billed_seconds')),
    sa.CheckConstraint('charge >= 0', name=op.f('ck_call_record_charge')),
    sa.CheckConstraint('cost >= 0', name=op.f('ck_call_record_cost')),
    sa.CheckConstraint('duration_seconds >= 0', name=op.f('ck_call_record_duration_seconds')),
    sa.CheckConstraint('rate >= 0', name=op.f('ck_call_record_rate')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_call_record_customer_id_customer'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_record')),
    sa.UniqueConstraint('source', 'call_id', name='uq_call_record_source_call_id')
    )
    with op.batch_alter_table('call_record', schema=None) as batch_op:
        batch_op.create_index('ix_call_record_customer_id_start_time', ['customer_id', 'start_time'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_record_received_at'), ['received_at'], unique=False)

    op.create_table('call_hour',
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('hour', sa.DateTime(), nullable=False),
    sa.Column('calls', sa.Integer(), nullable=False),
    sa.Column('answered', sa.Integer(), nullable=False),
    sa.Column('seconds', sa.BigInteger(), nullable=False),
    sa.Column('billed_seconds', sa.BigInteger(), nullable=False),
    sa.Column('cost', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('charge', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_call_hour_customer_id_customer'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('customer_id', 'hour', name=op.f('pk_call_hour'))
    )
    with op.batch_alter_table('call_hour', schema=None) as batch_op:
        batch_op.create_index('ix_call_hour_hour', ['hour'], unique=False)

    op.create_table('rollup_state',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('last_run', sa.DateTime(), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_rollup_state'))
    )


def downgrade():
    op.drop_table('rollup_state')
    with op.batch_alter_table('call_hour', schema=None) as batch_op:
        batch_op.drop_index('ix_call_hour_hour')

    op.drop_table('call_hour')
    with op.batch_alter_table('call_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_record_received_at'))
        batch_op.drop_index('ix_call_record_customer_id_start_time')

    op.drop_table('call_record')
