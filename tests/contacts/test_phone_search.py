"""Global Contacts search by digits: text with six digits or more first takes the numbers that hold all its runs of
six digits from ix_contact_phone_grams (migration 0027, PostgreSQL), and ILIKE then checks them, so the matches are
those of ILIKE alone, on both databases."""
import pytest
import sqlalchemy as sa

from panel import pages
from panel.actor import SYSTEM
from panel.contacts import directory
from panel.contacts.directory import contact_page
from panel.contacts.models import Contact
from panel.extensions import db
from tests.factories import ContactFactory, CustomerFactory

NUMBERS = {"Ana": ("+1 555 123 4567", ""), "Bo": ("", "+44 7700 123 4567"), "Cy": ("+1 555 1234 567", ""),
           "Di": ("+1 555 999 0000", "+1 555 123 0000"), "Ed": ("12345", "")}


@pytest.fixture
def numbers(app):
    with app.app_context():
        customer = CustomerFactory().id
        for name, (phone, mobile) in NUMBERS.items():
            ContactFactory(customer_id=customer, name=name, email=f"{name.lower()}@acme.example", phone=phone,
                           mobile=mobile)
        db.session.commit()


def found(app, query):
    with app.test_request_context():
        page, searched = contact_page(SYSTEM, query, "", "", pages.FIRST, 50)
        assert searched == directory.PHONES
        return [c.name for c in page.items]


@pytest.mark.parametrize("query, names", [
    ("123 4567", ["Ana", "Bo"]),          # the text as written: "1234 567" is another spelling
    ("1234 567", ["Cy"]),
    ("+1 555 123", ["Ana", "Cy", "Di"]),  # phone or mobile
    ("555 123 4567", ["Ana"]),
    ("7700 123 4567", ["Bo"]),
    ("12345", ["Ed"]),                    # fewer than six digits: the trigram search alone
    ("999 0000 123", []),                 # digits of the phone then the mobile are not one number
])
def test_a_digit_search_matches_what_ilike_matches(app, numbers, query, names):
    assert found(app, query) == names


def test_six_digits_or_more_read_the_grams_index(app):
    with app.app_context():
        grams = sa.bindparam("grams", ["123456", "234567"], sa.ARRAY(sa.Text))
        statement = sa.select(Contact.id).where(directory.PhoneGramsHeld(Contact.phone, Contact.mobile, grams))
        if db.engine.dialect.name != "postgresql":
            assert str(statement.compile(db.engine)).endswith("WHERE 1 = 1")
            return
        sql = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
        db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(row[0] for row in db.session.execute(sa.text("EXPLAIN " + sql)))
        assert "ix_contact_phone_grams" in plan, plan
        db.session.rollback()
