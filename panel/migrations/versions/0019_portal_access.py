"""customer.portal_sections: Portal Access, the portal sections a customer's contacts see

Customers that exist already keep seeing every section (as before); a new customer gets the default of
Settings → Options (the column's Python default, panel/customers/models.py).

Revision ID: 0019_portal_access
Revises: 0018_stored_cards
Create Date: 2026-12-01 12:45:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = '0019_portal_access'
down_revision = '0018_stored_cards'
branch_labels = None
depends_on = None

# Frozen here: a migration must not change when the app's list of sections does.
ALL_SECTIONS = "balance calls invoices deployments store reports"


def upgrade():
    # Plain ADD COLUMN (no batch copy), as SQLite needs with foreign-key data.
    op.add_column('customer', sa.Column('portal_sections', sa.String(length=120), nullable=False,
                                        server_default=ALL_SECTIONS))


def downgrade():
    op.drop_column('customer', 'portal_sections')
