"""contact.email_key (the case-folded, NFKC-normalised login, unique on both databases) and
verification_send (SMS codes and verification mails sent, to limit them per contact and per destination)

SQLite's lower() folds ASCII only, so the unique index on lower(email) let "Ä@x" and "ä@x" both exist (or
refused the second with an error PostgreSQL would not give). The key is computed in Python
(panel/emails.py) and stored, so both databases compare the same thing.

Revision ID: 0013_email_key_and_send_limits
Revises: 0009_billed_amounts
Create Date: 2026-12-01 10:30:00.000000

"""
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = '0013_email_key_and_send_limits'
down_revision = '0012_staff_groups_and_links'
branch_labels = None
depends_on = None


def _key(text: str) -> str:
    # panel.emails.key, frozen here: a migration must not change when the app's code does.
    text = unicodedata.normalize("NFKC", text or "").strip()
    return unicodedata.normalize("NFKC", text.casefold())


def upgrade():
    # Plain ADD COLUMN (no batch copy), so SQLite keeps the contact table's other indexes.
    op.add_column('contact', sa.Column('email_key', sa.String(length=254), nullable=True))
    connection = op.get_bind()
    contact = sa.table('contact', sa.column('id', sa.Integer), sa.column('email', sa.String),
                       sa.column('email_key', sa.String))
    seen = set()
    for row in connection.execute(sa.select(contact.c.id, contact.c.email).order_by(contact.c.id)):
        key = _key(row.email)
        if key in seen:
            # Two logins that were already one (both accepted before this rule): the older keeps it; the
            # newer gets a key nobody can type (sign-in never matched it reliably anyway), for staff to fix.
            key = f"{key}#duplicate-{row.id}"[:254]
        seen.add(key)
        connection.execute(sa.update(contact).where(contact.c.id == row.id).values(email_key=key))
    op.drop_index("uq_contact_email_lower", table_name="contact")
    op.create_index("uq_contact_email_key", "contact", ["email_key"], unique=True)
    op.create_table(
        'verification_send',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('contact_id', sa.Integer(), nullable=False),
        sa.Column('destination', sa.String(length=254), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_verification_send')),
    )
    op.create_index('ix_verification_send_contact_at', 'verification_send', ['contact_id', 'at'])
    op.create_index('ix_verification_send_destination_at', 'verification_send', ['destination', 'at'])


def downgrade():
    op.drop_index('ix_verification_send_destination_at', table_name='verification_send')
    op.drop_index('ix_verification_send_contact_at', table_name='verification_send')
    op.drop_table('verification_send')
    op.drop_index("uq_contact_email_key", table_name="contact")
    op.create_index("uq_contact_email_lower", "contact", [sa.text("lower(email)")], unique=True)
    op.drop_column('contact', 'email_key')
