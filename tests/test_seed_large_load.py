"""The benchmark data set's bulk load (panel/seed_large.py), at a small scale on PostgreSQL: the rows that
PostgreSQL generates follow the same rules as the Python ones, and the hash chain streamed beside them is one
`audit-verify` accepts."""
import json

import pytest
import sqlalchemy as sa

from panel import emails
from panel.audit.chain import verify_chain
from panel.extensions import db
from panel.seed_large import reseller_of, seed_large
from tests.helpers import migrated_app

CUSTOMERS = 12_000


@pytest.fixture
def loaded(postgres, tmp_path):
    app = migrated_app(postgres.create())
    with app.app_context():
        seed_large(str(tmp_path), customers=CUSTOMERS, contacts_each=2, busy=3, calls=600, days=8,
                   audit=CUSTOMERS + 5_000, echo=lambda line: None)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.postgres
def test_the_generated_rows_follow_the_seed_rules_and_the_chain_verifies(loaded):
    with loaded.app_context(), db.engine.connect() as connection:
        owners = dict(connection.execute(sa.text("SELECT id, reseller_id FROM customer")).all())
        assert len(owners) == CUSTOMERS
        assert owners == {i: reseller_of(i, CUSTOMERS) for i in range(1, CUSTOMERS + 1)}
        kinds = dict(connection.execute(sa.text("SELECT customer_type, count(*) FROM customer GROUP BY 1")).all())
        assert kinds == {"Reseller": CUSTOMERS // 100, "End Customer": CUSTOMERS - CUSTOMERS // 100}

        contacts = connection.execute(sa.text(
            "SELECT customer_id, count(*), min(id), max(id) FROM contact GROUP BY customer_id ORDER BY customer_id"
        )).all()
        assert len(contacts) == CUSTOMERS and {row[1] for row in contacts} == {2}
        assert contacts[0][1:] == (2, 1, 2)
        sample = connection.execute(sa.text("SELECT email, email_key FROM contact ORDER BY id LIMIT 500")).all()
        assert all(emails.key(address) == key for address, key in sample)
        assert len({address for address, _ in sample}) == 500
        # The name search's names: filled once after the load, and kept by the trigger again afterwards.
        names = connection.scalars(sa.text("SELECT name FROM contact_name")).all()
        assert len(names) == len(set(names)) and set(names) == set(connection.scalars(sa.text("SELECT name FROM contact")))
        connection.execute(sa.text("UPDATE contact SET name = 'Named After The Seed' WHERE id = 1"))
        assert connection.scalar(sa.text("SELECT count(*) FROM contact_name WHERE name = 'Named After The Seed'")) == 1
        connection.rollback()
        # The address words: filled once after the load (its key built then), and kept by the trigger again.
        words = connection.execute(sa.text(
            "SELECT count(*), count(DISTINCT contact_id) FROM contact_email_word")).one()
        assert words == (CUSTOMERS * 2 * 5, CUSTOMERS * 2)  # first.last.n@cN.example: five words
        assert connection.scalar(sa.text(
            "SELECT count(*) FROM contact_email_word w JOIN contact c ON c.id = w.contact_id AND c.name = w.name "
            "WHERE w.word = ANY (contact_email_words(c.email_key))")) == words[0]
        assert connection.scalar(sa.text("SELECT count(*) FROM email_word WHERE word = 'example'")) == 1
        connection.execute(sa.text("UPDATE contact SET email = 'after.seed@later.example', "
                                   "email_key = 'after.seed@later.example' WHERE id = 1"))
        assert connection.scalars(sa.text("SELECT word FROM contact_email_word WHERE contact_id = 1 ORDER BY word")
                                  ).all() == ["after", "example", "later", "seed"]
        connection.rollback()
        assert "pk_contact_email_word" in set(connection.scalars(sa.text(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'contact_email_word'")))

        # The search indexes dropped for the load are built again after it.
        indexes = set(connection.scalars(sa.text("SELECT indexname FROM pg_indexes WHERE tablename = 'contact'")))
        assert {"ix_contact_email_domain", "ix_contact_phone_grams", "ix_contact_name_trgm"} <= indexes

        report = verify_chain(connection)
        seeded = connection.scalar(sa.text("SELECT count(*) FROM audit_entry WHERE comment = 'seed-demo --scale large'"))
        assert seeded == CUSTOMERS + 5_000
        assert report.intact and report.checked > seeded  # the invoices' entries follow the seed's in one chain
        data = connection.execute(sa.text(
            "SELECT table_name, row_id, data FROM audit_entry WHERE id IN (1, :last) ORDER BY id"),
            {"last": CUSTOMERS + 5_000}).all()
        first, last = (json.loads(row.data) for row in data)
        assert data[0][:2] == ("customer", "1") and first["id"] == [None, 1] and "reseller_id" not in first
        assert first["debit_limit"] == [None, "100.0000"] and first["status"] == [None, "Active"]
        assert data[1][:2] == ("contact", "5000") and last["customer_id"] == [None, 2_500]


@pytest.mark.postgres
def test_fewer_audit_entries_than_customers_stop_within_the_customers(postgres, tmp_path):
    app = migrated_app(postgres.create())
    with app.app_context():
        seed_large(str(tmp_path), customers=50, contacts_each=1, busy=2, calls=50, days=3, audit=20,
                   echo=lambda line: None)
        with db.engine.connect() as connection:
            seeded = connection.scalars(sa.text(
                "SELECT row_id FROM audit_entry WHERE comment = 'seed-demo --scale large' ORDER BY id")).all()
            assert seeded == [str(i) for i in range(1, 21)]
            assert verify_chain(connection).intact
        db.session.remove()
        db.engine.dispose()
