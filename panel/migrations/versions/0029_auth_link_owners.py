"""auth_link: indexes on staff_user_id and contact_id, the person a link is for

Links are kept once used or expired, one for every reset mailed and every invitation, so the table grows with
use. Issuing a link first closes the person's open ones (an UPDATE by contact_id or staff_user_id, on the
public "I forgot my password" page), the staff list asks for each staff user whether an invitation is open,
and deleting a contact deletes its links (ON DELETE CASCADE): without these indexes each of them reads every
link ever issued.

Revision ID: 0029_auth_link_owners
Revises: 0028_contact_email_prefix
Create Date: 2026-12-03 17:40:00.000000

"""
from alembic import op

revision = '0029_auth_link_owners'
down_revision = '0028_contact_email_prefix'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(op.f('ix_auth_link_staff_user_id'), 'auth_link', ['staff_user_id'])
    op.create_index(op.f('ix_auth_link_contact_id'), 'auth_link', ['contact_id'])


def downgrade():
    op.drop_index(op.f('ix_auth_link_contact_id'), table_name='auth_link')
    op.drop_index(op.f('ix_auth_link_staff_user_id'), table_name='auth_link')
