"""invoices, invoice lines, payments and allocations; the customer's invoice schedule

Revision ID: 0006_invoices
Revises: 0005_calls
Create Date: 2026-11-22 05:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006_invoices'
down_revision = '0005_calls'
branch_labels = None
depends_on = None

SCHEDULE_CHECK = "invoice_schedule IN ('none', 'daily', 'weekly', 'monthly')"


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.add_column('customer', sa.Column('invoice_schedule', sa.String(length=10), nullable=False,
                                            server_default='none'))
        op.create_check_constraint('invoice_schedule', 'customer', SCHEDULE_CHECK)
    else:
        # A plain ADD COLUMN: a batch copy of the customer table would drop and refill a table that
        # every other table points at.
        op.execute("ALTER TABLE customer ADD COLUMN invoice_schedule VARCHAR(10) DEFAULT 'none' NOT NULL "
                   f"CONSTRAINT ck_customer_invoice_schedule CHECK ({SCHEDULE_CHECK})")

    op.create_table('number_sequence',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('last_value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_number_sequence'))
    )
    op.create_table('invoice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('time_frame', sa.String(length=10), nullable=False),
    sa.Column('period_start', sa.DateTime(), nullable=False),
    sa.Column('period_end', sa.DateTime(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('calls', sa.Integer(), nullable=False),
    sa.Column('billed_seconds', sa.BigInteger(), nullable=False),
    sa.Column('total', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('voided_by', sa.String(length=200), nullable=True),
    sa.Column('voided_at', sa.DateTime(), nullable=True),
    sa.Column('void_reason', sa.String(length=500), nullable=False),
    sa.CheckConstraint("status IN ('issued', 'paid', 'void')", name=op.f('ck_invoice_status')),
    sa.CheckConstraint("time_frame IN ('daily', 'weekly', 'monthly')", name=op.f('ck_invoice_time_frame')),
    sa.CheckConstraint('period_end > period_start', name=op.f('ck_invoice_period')),
    sa.CheckConstraint('total >= 0', name=op.f('ck_invoice_total')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_invoice_customer_id_customer'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice')),
    sa.UniqueConstraint('number', name=op.f('uq_invoice_number'))
    )
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.create_index('ix_invoice_customer_id_period_start', ['customer_id', 'period_start'], unique=False)
        batch_op.create_index('ix_invoice_status_id', ['status', 'id'], unique=False)
        batch_op.create_index('ix_invoice_customer_id_id', ['customer_id', 'id'], unique=False)
        batch_op.create_index('ix_invoice_period_start_id', ['period_start', 'id'], unique=False)

    op.create_table('invoice_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('calls', sa.Integer(), nullable=False),
    sa.Column('answered', sa.Integer(), nullable=False),
    sa.Column('billed_seconds', sa.BigInteger(), nullable=False),
    sa.Column('charge', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_invoice_line_customer_id_customer'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], name=op.f('fk_invoice_line_invoice_id_invoice'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_line'))
    )
    with op.batch_alter_table('invoice_line', schema=None) as batch_op:
        batch_op.create_index('ix_invoice_line_invoice_id_position', ['invoice_id', 'position'], unique=False)

    op.create_table('payment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status IN ('Pending', 'Completed', 'Cancelled')", name=op.f('ck_payment_status')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_payment_amount')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_payment_customer_id_customer'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment'))
    )
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.create_index('ix_payment_customer_id_status_amount', ['customer_id', 'status', 'amount'], unique=False)
        batch_op.create_index('ix_payment_customer_id_id', ['customer_id', 'id'], unique=False)

    op.create_table('payment_allocation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_payment_allocation_amount')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_payment_allocation_customer_id_customer'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], name=op.f('fk_payment_allocation_invoice_id_invoice'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], name=op.f('fk_payment_allocation_payment_id_payment'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_allocation')),
    sa.UniqueConstraint('payment_id', 'invoice_id', name='uq_payment_allocation_payment_invoice')
    )
    with op.batch_alter_table('payment_allocation', schema=None) as batch_op:
        batch_op.create_index('ix_payment_allocation_invoice_id', ['invoice_id'], unique=False)

    # A customer is never invoiced twice for one moment: invoices that are not void never overlap.
    if dialect == "postgresql":
        op.execute("ALTER TABLE invoice ADD CONSTRAINT ex_invoice_period_overlap EXCLUDE USING gist ("
                   "int4range(customer_id, customer_id, '[]') WITH &&, tsrange(period_start, period_end) WITH &&"
                   ") WHERE (status <> 'void')")
    else:
        overlap = ("EXISTS (SELECT 1 FROM invoice i WHERE i.customer_id = NEW.customer_id AND i.status <> 'void' "
                   "AND i.id <> NEW.id AND i.period_start < NEW.period_end AND i.period_end > NEW.period_start)")
        op.execute(f"""
            CREATE TRIGGER invoice_no_overlap BEFORE INSERT ON invoice
            WHEN NEW.status <> 'void' AND {overlap.replace('AND i.id <> NEW.id ', '')}
            BEGIN SELECT RAISE(ABORT, 'invoice periods overlap'); END""")
        op.execute(f"""
            CREATE TRIGGER invoice_no_overlap_update
            BEFORE UPDATE OF status, customer_id, period_start, period_end ON invoice
            WHEN NEW.status <> 'void' AND {overlap}
            BEGIN SELECT RAISE(ABORT, 'invoice periods overlap'); END""")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE invoice DROP CONSTRAINT IF EXISTS ex_invoice_period_overlap")
    else:
        op.execute("DROP TRIGGER IF EXISTS invoice_no_overlap")
        op.execute("DROP TRIGGER IF EXISTS invoice_no_overlap_update")
    with op.batch_alter_table('payment_allocation', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_allocation_invoice_id')
    op.drop_table('payment_allocation')
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_customer_id_id')
        batch_op.drop_index('ix_payment_customer_id_status_amount')
    op.drop_table('payment')
    with op.batch_alter_table('invoice_line', schema=None) as batch_op:
        batch_op.drop_index('ix_invoice_line_invoice_id_position')
    op.drop_table('invoice_line')
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_index('ix_invoice_period_start_id')
        batch_op.drop_index('ix_invoice_customer_id_id')
        batch_op.drop_index('ix_invoice_status_id')
        batch_op.drop_index('ix_invoice_customer_id_period_start')
    op.drop_table('invoice')
    op.drop_table('number_sequence')
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint('invoice_schedule', 'customer', type_='check')
        op.drop_column('customer', 'invoice_schedule')
    else:
        op.execute("ALTER TABLE customer DROP COLUMN invoice_schedule")
