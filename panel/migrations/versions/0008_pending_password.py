"""pending password: a reset's new password waits for its e-mail to be delivered

Revision ID: 0008_pending_password
Revises: 0007_accounts
Create Date: 2026-11-29 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008_pending_password'
down_revision = '0007_accounts'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no batch copy), so SQLite keeps the contact table's expression index.
    op.add_column('contact', sa.Column('pending_password_hash', sa.String(length=128), nullable=True))
    op.add_column('contact', sa.Column('pending_password_mail_id', sa.Integer(), nullable=True))
    op.create_index(op.f('ix_contact_pending_password_mail_id'), 'contact', ['pending_password_mail_id'], unique=True)


def downgrade():
    op.drop_index(op.f('ix_contact_pending_password_mail_id'), table_name='contact')
    op.drop_column('contact', 'pending_password_mail_id')
    op.drop_column('contact', 'pending_password_hash')
