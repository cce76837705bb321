"""contact e-mail prefixes: a B-tree on email_key that reads the addresses starting with a text as a range

A Global Contacts search for a word with "." or "@" ("ines.ito", "jsmith@acme", "acme.example") is first looked
for at the start of addresses and of their domains: this index (and ix_contact_email_domain, migration 0026) reads
those as ranges, at a cost that follows the matches. The trigram index must list every address holding each of
the text's trigrams ("ito" is in half a million of 10M seeded addresses) before it can pick the first found.
uq_contact_email_key cannot serve LIKE 'text%' unless the database collation is "C"; varchar_pattern_ops compares
bytes whatever the collation. PostgreSQL only: SQLite reads its (small) table either way.

Revision ID: 0028_contact_email_prefix
Revises: 0027_contact_phone_grams
Create Date: 2026-12-03 17:20:00.000000

"""
from alembic import op

revision = '0028_contact_email_prefix'
down_revision = '0027_contact_phone_grams'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_contact_email_prefix ON contact (email_key varchar_pattern_ops)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_contact_email_prefix")
