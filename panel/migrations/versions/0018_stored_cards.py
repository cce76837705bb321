"""stored cards: a customer's cards saved with the payment processor, the processor's customer of each panel
customer, and every charge attempt on a card (pending ones are reconciled by the worker)

Revision ID: 0018_stored_cards
Revises: 0016_store
Create Date: 2026-12-01 12:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = '0018_stored_cards'
down_revision = '0016_store'
branch_labels = None
depends_on = None

ONE_DEFAULT = sa.text("is_default AND removed_at IS NULL")


def upgrade():
    op.create_table(
        'card_processor_customer',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('processor_customer_id', sa.String(length=255), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ondelete='CASCADE',
                                name=op.f('fk_card_processor_customer_customer_id_customer')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_card_processor_customer')),
        sa.UniqueConstraint('customer_id', name=op.f('uq_card_processor_customer_customer_id')),
    )
    op.create_table(
        'stored_card',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('payment_method_id', sa.String(length=255), nullable=False),
        sa.Column('brand', sa.String(length=20), nullable=False),
        sa.Column('last4', sa.String(length=4), nullable=False),
        sa.Column('exp_month', sa.Integer(), nullable=False),
        sa.Column('exp_year', sa.Integer(), nullable=False),
        sa.Column('is_default', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.Column('removed_at', sa.DateTime(), nullable=True),
        sa.Column('removed_by', sa.String(length=200), nullable=True),
        sa.CheckConstraint('exp_month BETWEEN 1 AND 12', name=op.f('ck_stored_card_exp_month')),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ondelete='CASCADE',
                                name=op.f('fk_stored_card_customer_id_customer')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_card')),
        sa.UniqueConstraint('payment_method_id', name=op.f('uq_stored_card_payment_method_id')),
    )
    op.create_index(op.f('ix_stored_card_customer_id'), 'stored_card', ['customer_id'])
    op.create_index('uq_stored_card_default', 'stored_card', ['customer_id'], unique=True,
                    sqlite_where=ONE_DEFAULT, postgresql_where=ONE_DEFAULT)
    op.create_table(
        'card_charge',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('idempotency_key', sa.String(length=100), nullable=False),
        sa.Column('attempt', sa.Integer(), nullable=False),
        sa.Column('stored_card_id', sa.Integer(), nullable=True),
        sa.Column('card_label', sa.String(length=60), nullable=False),
        sa.Column('amount_minor', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('description', sa.String(length=200), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('message', sa.String(length=300), nullable=False),
        sa.Column('processor_charge_id', sa.String(length=255), nullable=True),
        sa.Column('refund_id', sa.String(length=255), nullable=True),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('settled_at', sa.DateTime(), nullable=True),
        sa.Column('refunded_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'unknown', 'succeeded', 'declined', 'refunded')",
                           name=op.f('ck_card_charge_status')),
        sa.CheckConstraint('amount_minor > 0', name=op.f('ck_card_charge_amount')),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ondelete='RESTRICT',
                                name=op.f('fk_card_charge_customer_id_customer')),
        sa.ForeignKeyConstraint(['stored_card_id'], ['stored_card.id'], ondelete='SET NULL',
                                name=op.f('fk_card_charge_stored_card_id_stored_card')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_card_charge')),
        sa.UniqueConstraint('idempotency_key', 'attempt', name='uq_card_charge_key_attempt'),
    )
    op.create_index(op.f('ix_card_charge_customer_id'), 'card_charge', ['customer_id'])
    op.create_index('ix_card_charge_status_created_at', 'card_charge', ['status', 'created_at'])


def downgrade():
    op.drop_index('ix_card_charge_status_created_at', table_name='card_charge')
    op.drop_index(op.f('ix_card_charge_customer_id'), table_name='card_charge')
    op.drop_table('card_charge')
    op.drop_index('uq_stored_card_default', table_name='stored_card')
    op.drop_index(op.f('ix_stored_card_customer_id'), table_name='stored_card')
    op.drop_table('stored_card')
    op.drop_table('card_processor_customer')
