"""payment references: an index on lower(reference), which a store order's wire or cheque payment looks up

Recording a payment refuses a reference that already paid another order, compared without case: without this
index each payment recorded read every payment ever taken.

Revision ID: 0032_payment_reference_lower
Revises: 0031_contact_email_words
Create Date: 2026-12-04 01:50:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = '0032_payment_reference_lower'
down_revision = '0031_contact_email_words'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_payment_reference_lower", "payment", [sa.text("lower(reference)")])


def downgrade():
    op.drop_index("ix_payment_reference_lower", table_name="payment")
