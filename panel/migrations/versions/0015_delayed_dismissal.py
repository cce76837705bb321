"""pending_change.dismissed_at / dismissed_by (a conflict staff have looked at and dismissed: it stays in the
Delay Log, no longer on the customer's Pending changes), and audit_entry indexes on staff_user_id and
contact_id (the audit log's User filter matches part of a name or e-mail through them).

Revision ID: 0015_delayed_dismissal
Revises: 0013_email_key_and_send_limits
Create Date: 2026-12-01 12:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = '0015_delayed_dismissal'
down_revision = '0013_email_key_and_send_limits'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no batch copy): SQLite keeps the table's indexes and check constraints.
    op.add_column('pending_change', sa.Column('dismissed_at', sa.DateTime(), nullable=True))
    op.add_column('pending_change', sa.Column('dismissed_by', sa.String(length=300), nullable=True))
    op.create_index('ix_audit_entry_staff_user_id_id', 'audit_entry', ['staff_user_id', 'id'])
    op.create_index('ix_audit_entry_contact_id_id', 'audit_entry', ['contact_id', 'id'])


def downgrade():
    op.drop_index('ix_audit_entry_contact_id_id', table_name='audit_entry')
    op.drop_index('ix_audit_entry_staff_user_id_id', table_name='audit_entry')
    op.drop_column('pending_change', 'dismissed_by')
    op.drop_column('pending_change', 'dismissed_at')
