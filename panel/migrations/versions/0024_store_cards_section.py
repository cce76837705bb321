"""Portal Access "cards": the stored-cards page becomes a section staff may hide

Every customer that exists keeps seeing its Cards page (as before, when no section held it back), and so does
the Settings → Options default when one is stored. With the section hidden, the Store's checkout still takes a
new card for one payment (not saved).

Revision ID: 0024_store_cards_section
Revises: 0023_trunk_addresses
Create Date: 2026-12-01 16:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = '0024_store_cards_section'
down_revision = '0023_trunk_addresses'
branch_labels = None
depends_on = None

# Frozen here: the key is last in PORTAL_SECTIONS, so appending keeps the stored order.
KEY = "cards"


def _add(table: str, column: str, where: str = "") -> None:
    op.execute(sa.text(
        f"UPDATE {table} SET {column} = CASE WHEN {column} = '' THEN '{KEY}' ELSE {column} || ' {KEY}' END "
        f"WHERE (' ' || {column} || ' ') NOT LIKE '% {KEY} %'{where}"))


def _remove(table: str, column: str, where: str = "") -> None:
    op.execute(sa.text(
        f"UPDATE {table} SET {column} = TRIM(REPLACE(' ' || {column} || ' ', ' {KEY} ', ' ')) "
        f"WHERE (' ' || {column} || ' ') LIKE '% {KEY} %'{where}"))


def upgrade():
    _add("customer", "portal_sections")
    _add("setting", "value", " AND key = 'portal_sections'")


def downgrade():
    _remove("customer", "portal_sections")
    _remove("setting", "value", " AND key = 'portal_sections'")
