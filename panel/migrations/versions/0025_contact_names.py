"""contact_name: every name a contact has had, kept by triggers on contact, for the name search

A search by a person's name ("Ines Ito") finds the matching names here first, then reads the page of contacts with
those names in name order from the (name, id) index: its cost is that of one page, however many contacts share
the name. A name stays after its last contact goes or is renamed (it then matches no contact).

Revision ID: 0025_contact_names
Revises: 0024_store_cards_section
Create Date: 2026-12-02 12:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = '0025_contact_names'
down_revision = '0024_store_cards_section'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('contact_name',
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_contact_name'))
    )
    op.execute("INSERT INTO contact_name (name) SELECT DISTINCT name FROM contact")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_contact_name_name_trgm ON contact_name USING gin (name gin_trgm_ops)")
        op.execute("""
            CREATE FUNCTION contact_name_kept() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO contact_name (name) VALUES (NEW.name) ON CONFLICT DO NOTHING;
                RETURN NULL;
            END $$""")
        op.execute("CREATE TRIGGER contact_name_kept AFTER INSERT ON contact "
                   "FOR EACH ROW EXECUTE FUNCTION contact_name_kept()")
        op.execute("CREATE TRIGGER contact_name_kept_update AFTER UPDATE OF name ON contact "
                   "FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION contact_name_kept()")
    else:
        op.execute("""
            CREATE TRIGGER contact_name_kept AFTER INSERT ON contact
            BEGIN INSERT OR IGNORE INTO contact_name (name) VALUES (NEW.name); END""")
        op.execute("""
            CREATE TRIGGER contact_name_kept_update AFTER UPDATE OF name ON contact WHEN OLD.name IS NOT NEW.name
            BEGIN INSERT OR IGNORE INTO contact_name (name) VALUES (NEW.name); END""")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS contact_name_kept ON contact")
        op.execute("DROP TRIGGER IF EXISTS contact_name_kept_update ON contact")
        op.execute("DROP FUNCTION IF EXISTS contact_name_kept()")
    else:
        op.execute("DROP TRIGGER IF EXISTS contact_name_kept")
        op.execute("DROP TRIGGER IF EXISTS contact_name_kept_update")
    op.drop_table('contact_name')
