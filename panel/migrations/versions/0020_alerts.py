"""Balance alerts and penalties (alert, alert_state, alert_firing, alert_penalty), the balance cache the
credit check reads, and the customer's daily_spend_limit and allow_inbound_zero_balance.

Revision ID: 0020_alerts
Revises: 0019_portal_access
Create Date: 2026-12-01 13:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = '0020_alerts'
# The brief names 0013_email_key_and_send_limits; 0016_store already revises it on this branch, so this one
# follows it (one head). The lead re-chains at merge.
down_revision = '0019_portal_access'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no batch copy), so SQLite keeps the customer table's data and references.
    op.add_column('customer', sa.Column('daily_spend_limit', sa.Numeric(precision=18, scale=4), nullable=True))
    op.add_column('customer', sa.Column('allow_inbound_zero_balance', sa.Boolean(), server_default=sa.false(),
                                        nullable=False))
    op.create_table(
        'alert',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=True),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('figure', sa.String(length=20), nullable=False),
        sa.Column('operator', sa.String(length=2), nullable=False),
        sa.Column('threshold', sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column('reset_threshold', sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column('repeat_minutes', sa.Integer(), nullable=True),
        sa.Column('contact_types', sa.String(length=200), server_default='', nullable=False),
        sa.Column('extra_addresses', sa.String(length=2000), server_default='', nullable=False),
        sa.Column('subject', sa.String(length=200), server_default='', nullable=False),
        sa.Column('body', sa.Text(), server_default='', nullable=False),
        sa.Column('penalty_minutes', sa.Integer(), nullable=True),
        sa.Column('enabled', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("figure IN ('balance', 'available', 'channels', 'spend_today', 'asr_hour')",
                           name=op.f('ck_alert_figure')),
        sa.CheckConstraint("operator IN ('<', '<=', '>', '>=')", name=op.f('ck_alert_operator')),
        sa.CheckConstraint('repeat_minutes IS NULL OR repeat_minutes > 0', name=op.f('ck_alert_repeat_minutes')),
        sa.CheckConstraint('penalty_minutes IS NULL OR penalty_minutes > 0', name=op.f('ck_alert_penalty_minutes')),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_alert_customer_id_customer'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alert')),
    )
    op.create_index(op.f('ix_alert_customer_id'), 'alert', ['customer_id'], unique=False)
    op.create_table(
        'alert_state',
        sa.Column('alert_id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('crossed', sa.Boolean(), nullable=False),
        sa.Column('last_value', sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column('last_fired_at', sa.DateTime(), nullable=True),
        sa.Column('fired_count', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['alert_id'], ['alert.id'], name=op.f('fk_alert_state_alert_id_alert'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_alert_state_customer_id_customer'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('alert_id', 'customer_id', name=op.f('pk_alert_state')),
    )
    op.create_index(op.f('ix_alert_state_customer_id'), 'alert_state', ['customer_id'], unique=False)
    op.create_table(
        'alert_firing',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('alert_id', sa.Integer(), nullable=True),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('alert_name', sa.String(length=100), nullable=False),
        sa.Column('figure', sa.String(length=20), nullable=False),
        sa.Column('value', sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column('threshold', sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column('recipients', sa.String(length=2000), nullable=False),
        sa.Column('penalty', sa.Boolean(), nullable=False),
        sa.Column('fired_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['alert_id'], ['alert.id'], name=op.f('fk_alert_firing_alert_id_alert'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_alert_firing_customer_id_customer'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_firing')),
    )
    op.create_index(op.f('ix_alert_firing_alert_id'), 'alert_firing', ['alert_id'], unique=False)
    op.create_index('ix_alert_firing_customer_fired', 'alert_firing', ['customer_id', 'fired_at'], unique=False)
    op.create_table(
        'alert_penalty',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('alert_id', sa.Integer(), nullable=True),
        sa.Column('previous_status', sa.String(length=20), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('ends_at', sa.DateTime(), nullable=False),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.Column('outcome', sa.String(length=10), server_default='', nullable=False),
        sa.CheckConstraint("outcome IN ('', 'restored', 'kept')", name=op.f('ck_alert_penalty_outcome')),
        sa.ForeignKeyConstraint(['alert_id'], ['alert.id'], name=op.f('fk_alert_penalty_alert_id_alert'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_alert_penalty_customer_id_customer'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_penalty')),
    )
    op.create_index(op.f('ix_alert_penalty_customer_id'), 'alert_penalty', ['customer_id'], unique=False)
    op.create_index('ix_alert_penalty_open_ends', 'alert_penalty', ['ended_at', 'ends_at'], unique=False)
    op.create_table(
        'balance_cache',
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('balance', sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column('refreshed_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_balance_cache_customer_id_customer'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_balance_cache')),
    )


def downgrade():
    op.drop_table('balance_cache')
    op.drop_index('ix_alert_penalty_open_ends', table_name='alert_penalty')
    op.drop_index(op.f('ix_alert_penalty_customer_id'), table_name='alert_penalty')
    op.drop_table('alert_penalty')
    op.drop_index('ix_alert_firing_customer_fired', table_name='alert_firing')
    op.drop_index(op.f('ix_alert_firing_alert_id'), table_name='alert_firing')
    op.drop_table('alert_firing')
    op.drop_index(op.f('ix_alert_state_customer_id'), table_name='alert_state')
    op.drop_table('alert_state')
    op.drop_index(op.f('ix_alert_customer_id'), table_name='alert')
    op.drop_table('alert')
    op.drop_column('customer', 'allow_inbound_zero_balance')
    op.drop_column('customer', 'daily_spend_limit')
