"""trunk_address: the addresses and CIDR ranges a customer's switch traffic comes from (authorize by IP)

Revision ID: 0023_trunk_addresses
Revises: 0022_bulk_jobs
Create Date: 2026-12-01 16:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = '0023_trunk_addresses'
down_revision = '0022_bulk_jobs'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('trunk_address',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('network', sa.String(length=43), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_trunk_address_customer_id_customer'),
                            ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trunk_address')),
    sa.UniqueConstraint('network', name=op.f('uq_trunk_address_network'))
    )
    with op.batch_alter_table('trunk_address', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trunk_address_customer_id'), ['customer_id'], unique=False)


def downgrade():
    with op.batch_alter_table('trunk_address', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trunk_address_customer_id'))
    op.drop_table('trunk_address')
