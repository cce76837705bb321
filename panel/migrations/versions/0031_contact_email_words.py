"""contact e-mail words: every run of letters and digits of each contact's address, with the contact's name, kept by
triggers on contact, for the search of a fragment anywhere in addresses (PostgreSQL)

A fragment that many addresses hold ("ito" in a tenth of 10M) made the trigram index list all of them before a
page in name order could be picked. A fragment of letters and digits lies inside one word of an address
(`ines.ito@c4242.example`: ines, ito, c4242, example). The words that hold it are found in `email_word` (one row
per distinct word, trigram-indexed, never removed), and each word's contacts are read in name order from
`contact_email_word`'s key (word, name, contact_id): a page costs a descent per word, however many addresses
match. Filling the tables reads every contact once: the seed, on two connections, takes about 21 s per million
contacts on this machine (3.5 min for 10M); this migration fills them on one. At 10M contacts the tables and their
indexes take 5.6 GB. SQLite reads its (small) table with LIKE, as before.

Revision ID: 0031_contact_email_words
Revises: 0030_reference_indexes
Create Date: 2026-12-04 01:10:00.000000

"""
from alembic import op

revision = '0031_contact_email_words'
down_revision = '0030_reference_indexes'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(r"""
        CREATE FUNCTION contact_email_words(email_key text) RETURNS text[]
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT coalesce(array_agg(DISTINCT word), '{}')
            FROM regexp_split_to_table(coalesce(email_key, ''), '[^a-z0-9]+') AS word
            WHERE word <> ''
        $$""")
    op.execute("""
        CREATE TABLE contact_email_word (
            word text NOT NULL,
            name varchar(120) NOT NULL,
            contact_id integer NOT NULL
        )""")
    op.execute("CREATE TABLE email_word (word text NOT NULL, CONSTRAINT pk_email_word PRIMARY KEY (word))")
    op.execute("""
        INSERT INTO contact_email_word (word, name, contact_id)
        SELECT word, name, id FROM contact, unnest(contact_email_words(email_key)) AS word""")
    op.execute("ALTER TABLE contact_email_word ADD CONSTRAINT pk_contact_email_word "
               "PRIMARY KEY (word, name, contact_id)")
    op.execute("INSERT INTO email_word (word) SELECT DISTINCT word FROM contact_email_word")
    op.execute("CREATE INDEX ix_email_word_trgm ON email_word USING gin (word gin_trgm_ops)")
    # A contact's rows go with its old name and address, and come back with the new ones: found by the key.
    op.execute("""
        CREATE FUNCTION contact_email_words_kept() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                DELETE FROM contact_email_word
                WHERE word = ANY (contact_email_words(OLD.email_key)) AND name = OLD.name AND contact_id = OLD.id;
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                INSERT INTO contact_email_word (word, name, contact_id)
                SELECT word, NEW.name, NEW.id FROM unnest(contact_email_words(NEW.email_key)) AS word;
                INSERT INTO email_word (word) SELECT unnest(contact_email_words(NEW.email_key))
                ON CONFLICT DO NOTHING;
            END IF;
            RETURN NULL;
        END $$""")
    op.execute("CREATE TRIGGER contact_email_words_kept AFTER INSERT OR DELETE ON contact "
               "FOR EACH ROW EXECUTE FUNCTION contact_email_words_kept()")
    op.execute("CREATE TRIGGER contact_email_words_kept_update AFTER UPDATE OF name, email_key ON contact "
               "FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.email_key IS DISTINCT FROM NEW.email_key) "
               "EXECUTE FUNCTION contact_email_words_kept()")
    op.execute("ANALYZE contact_email_word")
    op.execute("ANALYZE email_word")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS contact_email_words_kept ON contact")
    op.execute("DROP TRIGGER IF EXISTS contact_email_words_kept_update ON contact")
    op.execute("DROP FUNCTION IF EXISTS contact_email_words_kept()")
    op.execute("DROP TABLE IF EXISTS email_word")
    op.execute("DROP TABLE IF EXISTS contact_email_word")
    op.execute("DROP FUNCTION IF EXISTS contact_email_words(text)")
