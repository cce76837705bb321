"""contact e-mail domains: a B-tree on the part of email_key after its "@", for Global Contacts searches by domain

A search for "@acme.example" (text that starts with "@") reads the addresses whose domain starts with the rest
from this index, in a range: its cost follows the matches, not the size of the table, where the trigram index
must list every address holding each of the text's trigrams (the digits of "@c4242." are in most addresses of
the seed). PostgreSQL only: SQLite reads its (small) table either way.

Revision ID: 0026_contact_email_domain
Revises: 0025_contact_names
Create Date: 2026-12-02 16:40:00.000000

"""
from alembic import op

revision = '0026_contact_email_domain'
down_revision = '0025_contact_names'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_contact_email_domain ON contact (split_part(email_key, '@', 2) text_pattern_ops)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_contact_email_domain")
