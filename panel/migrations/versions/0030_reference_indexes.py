"""indexes on three references that had none: store_order.contact_id, issue_report.contact_id,
portal_login.staff_user_id

Deleting a contact sets its orders' and issue reports' contact_id to NULL (ON DELETE SET NULL), and a staff
user's sign-out ends their open Portal Logins by staff_user_id: without these indexes each of them reads the
whole table, which grows with every order, report and Portal Login ever made.

Revision ID: 0030_reference_indexes
Revises: 0029_auth_link_owners
Create Date: 2026-12-03 17:20:00.000000

"""
from alembic import op

revision = '0030_reference_indexes'
down_revision = '0029_auth_link_owners'
branch_labels = None
depends_on = None

INDEXES = (("store_order", "contact_id"), ("issue_report", "contact_id"), ("portal_login", "staff_user_id"))


def upgrade():
    for table, column in INDEXES:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column])


def downgrade():
    for table, column in reversed(INDEXES):
        op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
