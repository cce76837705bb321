"""A fragment of letters and digits searched anywhere in e-mail addresses, on PostgreSQL: the address words that hold
it are found in email_word, and each word's contacts read in name order from contact_email_word's key (both kept by
triggers on contact, migration 0031), so the search pages through every match, uncapped, like a name search. Text
with other characters, a search with filters, and text that more words hold than WORD_CAP take the trigram search."""
import re

import pytest
import sqlalchemy as sa

from panel import pages, search, unit_of_work
from panel.actor import SYSTEM
from panel.contacts import directory
from panel.contacts.directory import contact_page
from panel.contacts.models import Contact
from panel.contacts.records import change_login_email, update_contact
from panel.extensions import db
from tests.contacts.test_name_search import walk
from tests.factories import ContactFactory, CustomerFactory
from tests.helpers import Statements

ADDRESSES = {"Zed Ito": "ito@a.example", "Al Brito": "brito.ito@b.example", "Cy Kito": "KITO@c.example",
             "Di Dee": "di@ito.example", "Ed Eel": "i.to@d.example", "Fay Fox": "fay@e.example",
             "Gus Gale": "gus+bitol@f.example"}


@pytest.fixture
def addressed(pg_app):
    with pg_app.app_context():
        customer = CustomerFactory().id
        for name, email in ADDRESSES.items():
            ContactFactory(customer_id=customer, name=name, email=email)
        db.session.commit()
        return customer


def holding(app, fragment):
    """The ids of the contacts whose address holds `fragment` (any case), in name order: what ILIKE finds."""
    with app.app_context():
        contacts = db.session.scalars(sa.select(Contact).order_by(Contact.name, Contact.id)).all()
        return [c.id for c in contacts if fragment.lower() in c.email.lower()]


@pytest.mark.parametrize("backwards", [False, True])
def test_a_fragment_of_an_address_word_pages_through_every_address_holding_it_uncapped(pg_app, addressed, monkeypatch,
                                                                                        backwards):
    monkeypatch.setattr(search, "SEARCH_CAP", 2)  # fewer than the matches: the word search does not stop at the cap
    expected = holding(pg_app, "ito")
    assert len(expected) == 5  # two words of one address hold it, and it is listed once; "i.to" does not
    with Statements(pg_app) as statements:
        assert walk(pg_app, "ITO", 2, backwards, emails=True) == expected
    assert statements.reading("contact_email_word") and not [s for s, _ in statements.seen if "ILIKE" in s]


def test_the_word_search_finds_what_the_trigram_search_finds(pg_app, addressed, monkeypatch):
    for fragment in ("ito", "bit", "bitol", "example", "c4242", "kito", "i.to", "fay@", "e.ex"):
        by_words = walk(pg_app, fragment, 3, emails=True)
        monkeypatch.setattr(directory, "WORD_CAP", 0)  # every search is then the trigram one
        assert walk(pg_app, fragment, 3, emails=True) == by_words == holding(pg_app, fragment), fragment
        monkeypatch.undo()


def test_address_words_follow_a_renamed_readdressed_and_deleted_contact(pg_app, addressed):
    def words_kept():
        with pg_app.app_context():
            kept = db.session.execute(sa.text("SELECT word, name, contact_id FROM contact_email_word")).all()
            vocabulary = set(db.session.scalars(sa.text("SELECT word FROM email_word")))
            contacts = db.session.scalars(sa.select(Contact)).all()
            expected = {(word, c.name, c.id) for c in contacts for word in re.split("[^a-z0-9]+", c.email_key) if word}
            assert sorted(kept) == sorted(expected)
            assert {word for word, _, _ in expected} <= vocabulary

    with pg_app.app_context(), unit_of_work.unit():
        zed = db.session.scalar(sa.select(Contact).where(Contact.name == "Zed Ito"))
        update_contact(SYSTEM, zed, {"name": "Aaron Ito"})
        zed_id = zed.id
    words_kept()
    assert walk(pg_app, "ito", 1, emails=True)[0] == zed_id  # in the order of its new name
    with pg_app.app_context(), unit_of_work.unit():
        change_login_email(SYSTEM, db.session.get(Contact, zed_id), "aaron@quiet.example")
    words_kept()
    assert zed_id not in walk(pg_app, "ito", 3, emails=True)
    assert walk(pg_app, "quiet", 3, emails=True) == [zed_id]
    with pg_app.app_context(), unit_of_work.unit():
        db.session.delete(db.session.scalar(sa.select(Contact).where(Contact.name == "Al Brito")))
    words_kept()
    assert walk(pg_app, "brito", 3, emails=True) == []


def test_text_that_more_words_hold_than_the_cap_takes_the_capped_search(pg_app, addressed, monkeypatch):
    monkeypatch.setattr(directory, "WORD_CAP", 2)  # "ito", "brito" and "kito" hold it
    monkeypatch.setattr(search, "SEARCH_CAP", 2)
    with pg_app.test_request_context(), Statements(pg_app) as statements:
        page, searched = contact_page(SYSTEM, "ito", "", "", pages.FIRST, 10, emails=True)
    assert searched == directory.EMAILS and page.capped
    assert not statements.reading("contact_email_word")


def test_a_filtered_search_and_text_with_other_characters_search_the_addresses_themselves(pg_app, addressed):
    with Statements(pg_app) as statements:
        assert walk(pg_app, "ito", 3, customer=str(addressed), emails=True) == holding(pg_app, "ito")
        assert walk(pg_app, "ito", 3, contact_type="Billing", emails=True) == []
        assert walk(pg_app, "i.to", 3, emails=True) == holding(pg_app, "i.to")
    assert not statements.reading("email_word") and not statements.reading("contact_email_word")


def test_a_word_with_no_contact_word_holding_it_is_an_empty_page_without_reading_contacts(pg_app, addressed):
    with Statements(pg_app) as statements:
        assert walk(pg_app, "zzz", 3, emails=True) == []
    assert statements.reading("email_word") and not statements.reading("contact")


def test_each_word_is_read_from_its_place_in_the_key_of_contact_email_word(pg_app, addressed):
    """Where the speed comes from: each word's page is a range of the (word, name, contact_id) key after the
    cursor, in the key's order, so nothing is sorted but the few rows the words give."""
    with pg_app.test_request_context():
        after = pages.PageRequest(after=("Cy Kito", 3), at=3)
        with Statements(pg_app) as statements:
            contact_page(SYSTEM, "ito", "", "", after, 2, emails=True)
        [(statement, parameters)] = [(s, p) for s, p in statements.reading("contact_email_word") if "LATERAL" in s]
        with db.engine.connect() as connection:
            connection.exec_driver_sql("SET enable_seqscan = off")
            plan = "\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters))
    assert "pk_contact_email_word" in plan and "Index Cond: ((word = w.word)" in plan, plan
    assert "name >= 'Cy Kito'" in plan, plan
