"""A search by a person's name ("Ines Ito"): contact_name holds every name a contact has had (kept by triggers on
contact, on both databases), so the search finds the names first and reads its page of contacts in name order from
the (name, id) index. All the contacts who share a name page in order, however many, and none is left out by the
search cap."""
import pytest
import sqlalchemy as sa

from panel import pages, search, unit_of_work
from panel.actor import SYSTEM
from panel.contacts import directory
from panel.contacts.directory import contact_page
from panel.contacts.models import Contact, ContactName
from panel.contacts.records import update_contact
from panel.extensions import db
from tests.factories import ContactFactory, CustomerFactory

SHARED = ["Ines Ito"] * 7 + ["Ines Itoh", "Zoe Ines Ito"]


@pytest.fixture
def people(app):
    """Nine contacts whose names hold 'ines ito' (seven of them the same name) and one who does not."""
    with app.app_context():
        customer = CustomerFactory().id
        for n, name in enumerate(SHARED + ["Bo Brown"]):
            ContactFactory(customer_id=customer, name=name, email=f"person{n}@acme.example")
        db.session.commit()
        return customer


def walk(app, query, size, backwards=False, **filters):
    """The ids of every contact visited by following Next from the first page (or Previous from the last)."""
    seen = []
    with app.test_request_context():
        wanted = pages.PageRequest(last=True) if backwards else pages.FIRST
        for _ in range(20):
            page, _ = contact_page(SYSTEM, query, filters.get("customer", ""), filters.get("contact_type", ""), wanted,
                                   size, emails=filters.get("emails", False))
            assert not page.capped
            ids = [c.id for c in page.items]
            seen = ids + seen if backwards else seen + ids
            link = page.links.get("prev" if backwards else "next")
            if not link:
                return seen
            wanted = pages.requested(link)
    raise AssertionError("the pages never ended")


def in_name_order(app, names):
    with app.app_context():
        return list(db.session.scalars(sa.select(Contact.id).where(Contact.name.in_(names)).order_by(Contact.name, Contact.id)))


@pytest.mark.parametrize("backwards", [False, True])
def test_contacts_sharing_a_name_page_through_all_of_them_in_name_order(app, people, monkeypatch, backwards):
    monkeypatch.setattr(search, "SEARCH_CAP", 3)  # fewer than the matches: this search does not stop at the cap
    assert walk(app, "INES ITO", 2, backwards) == in_name_order(app, SHARED)


def test_a_name_search_keeps_its_filters(app, people):
    with app.app_context(), unit_of_work.unit():
        ContactFactory(name="Ines Ito", email="ines.elsewhere@beacon.example")
    with app.app_context():
        [other] = db.session.scalars(sa.select(Contact.id).where(Contact.email == "ines.elsewhere@beacon.example"))
    assert other not in walk(app, "ines ito", 4, customer=str(people))
    assert other in walk(app, "ines ito", 4)
    assert walk(app, "ines ito", 4, contact_type="Billing") == []


def test_a_renamed_contact_is_found_by_its_new_name_only(app, people):
    with app.app_context(), unit_of_work.unit():
        bo = db.session.scalar(sa.select(Contact).where(Contact.name == "Bo Brown"))
        update_contact(SYSTEM, bo, {"name": "Bo Brownlee Jr"})
    with app.app_context():
        renamed = db.session.scalar(sa.select(Contact.id).where(Contact.name == "Bo Brownlee Jr"))
        assert db.session.get(ContactName, "Bo Brownlee Jr") is not None
    assert walk(app, "brownlee jr", 5) == [renamed]
    assert walk(app, "bo brown", 5) == [renamed]  # "Bo Brown" is kept as a name, and matches nobody now
    assert walk(app, "bo brown", 5) == walk(app, "bo brownlee", 5)


def test_a_word_held_by_names_lists_their_contacts_uncapped_and_offers_the_e_mail_search(app, as_role, people,
                                                                                        monkeypatch):
    with app.app_context(), unit_of_work.unit():
        ContactFactory(name="Ana Lopez", email="itoh.fan@beacon.example")  # "ito" in the address only
    monkeypatch.setattr(search, "SEARCH_CAP", 3)
    assert walk(app, "ito", 2) == in_name_order(app, SHARED)
    body = as_role("readonly").get("/contacts?q=ito", htmx=True).get_data(as_text=True)
    assert "Contacts whose name holds “ito”." in body and "Ana Lopez" not in body
    assert 'href="/contacts?q=ito&amp;in=emails"' in body


def test_the_e_mail_search_of_a_word_keeps_to_addresses_through_its_pages(app, as_role, people, monkeypatch):
    with app.app_context(), unit_of_work.unit():
        ContactFactory(name="Ana Lopez", email="itoh.fan@beacon.example")
    with app.app_context():
        [fan] = db.session.scalars(sa.select(Contact.id).where(Contact.name == "Ana Lopez"))
    assert walk(app, "itoh", 1, emails=True) == [fan]
    assert walk(app, "person", 3, emails=True) == in_name_order(app, SHARED + ["Bo Brown"])
    client = as_role("readonly")
    monkeypatch.setitem(app.config, "PAGE_SIZE", 3)
    body = client.get("/contacts?q=person&in=emails&customer=" + str(people), htmx=True).get_data(as_text=True)
    assert "Contacts whose e-mail address holds “person”." in body
    assert "in=emails" in body[body.index('<nav class="pager"'):]  # Next stays in the addresses
    assert f'href="/contacts?q=person&amp;customer={people}"' in body  # back to names, the filter kept


def test_a_word_no_name_holds_is_looked_for_in_e_mail_addresses(app, as_role, people):
    assert walk(app, "acme", 4) == in_name_order(app, SHARED + ["Bo Brown"])
    body = as_role("readonly").get("/contacts?q=acme", htmx=True).get_data(as_text=True)
    assert "No contact’s name holds “acme”; these are the contacts whose e-mail address does." in body
    assert walk(app, "@acme.", 4) == walk(app, "acme", 4)  # "@" or ".": names and addresses, as before


def test_text_held_by_more_names_than_the_cap_takes_the_capped_search(app, as_role, people, monkeypatch):
    monkeypatch.setattr(directory, "NAME_CAP", 2)
    monkeypatch.setattr(search, "SEARCH_CAP", 3)
    client = as_role("readonly")
    body = client.get("/contacts?q=ines+ito", htmx=True).get_data(as_text=True)
    assert "contacts match; the first 3 found are shown in name order" in body
    monkeypatch.setattr(directory, "NAME_CAP", 3)
    body = client.get("/contacts?q=ines+ito", htmx=True).get_data(as_text=True)
    assert "found are shown" not in body and body.count("Ines Ito") >= 7


def test_the_name_index_serves_a_page_of_several_names_in_order(app):
    """Where the page's speed comes from: the (name, id) B-tree reads `name IN (…)` in its own order after a
    cursor, so PostgreSQL needs no sort and stops after one page."""
    with app.app_context():
        statement = (sa.select(Contact.id).where(Contact.name.in_(["Ines Ito", "Ana Ito"]),
                                                 pages._beyond([Contact.name, Contact.id], ("Ines Ito", 5), True))
                     .order_by(Contact.name, Contact.id).limit(51))
        sql = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
        if db.engine.dialect.name != "postgresql":
            plan = " ".join(str(row[-1]) for row in db.session.execute(sa.text("EXPLAIN QUERY PLAN " + sql)))
            assert "USING COVERING INDEX ix_contact_name_id" in plan and "TEMP B-TREE" not in plan, plan
            return
        db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
        db.session.execute(sa.text("SET LOCAL enable_bitmapscan = off"))
        plan = "\n".join(row[0] for row in db.session.execute(sa.text("EXPLAIN " + sql)))
        assert "ix_contact_name_id" in plan and "Sort" not in plan, plan
        assert "name >= 'Ines Ito'" in plan, plan
        db.session.rollback()


def test_text_starting_with_at_finds_the_addresses_whose_domain_starts_with_the_rest(app, as_role, people):
    with app.app_context(), unit_of_work.unit():
        ContactFactory(name="Ana Lopez", email="Ana@ACME.Example.org")
        ContactFactory(name="Cy Acme", email="acme.fan@beacon.example")  # "acme" in the name and the local part only
        ContactFactory(name="Di Di", email="di@notacme.example")
    with app.app_context():
        ana = db.session.scalar(sa.select(Contact.id).where(Contact.name == "Ana Lopez"))
    at_acme = in_name_order(app, ["Ana Lopez", *SHARED, "Bo Brown"])
    assert walk(app, "@acme.", 3) == at_acme == walk(app, "@acme.example", 4)
    assert walk(app, "@Acme.Example.org", 3) == [ana]
    body = as_role("readonly").get("/contacts?q=%40acme.", htmx=True).get_data(as_text=True)
    assert "Contacts whose e-mail domain starts with “acme.”." in body
    assert walk(app, "@acme_", 3) == []  # "_" and "%" are text, not wildcards
    assert walk(app, "@beacon", 3, customer=str(people)) == []  # the filters still apply


def sql_and_plan(condition) -> tuple[str, str | None]:
    """The SQL of a search's capped read of matches, and PostgreSQL's plan for it with sequential scans off (None on
    SQLite, which reads its small table either way)."""
    statement = sa.select(Contact.id).where(condition).limit(10_001)
    sql = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
    if db.engine.dialect.name != "postgresql":
        return sql, None
    db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(row[0] for row in db.session.execute(sa.text("EXPLAIN " + sql)))
    db.session.rollback()
    return sql, plan


def test_a_domain_search_reads_a_range_of_the_domain_index(app):
    with app.app_context():
        sql, plan = sql_and_plan(directory.EmailDomain(Contact.email_key).like(search.prefix("c4242."), escape="\\"))
    if plan is None:
        assert "substr(contact.email_key, instr(contact.email_key, '@') + 1) LIKE 'c4242.%'" in sql, sql
    else:
        assert "ix_contact_email_domain" in plan and "~>=~ 'c4242.'" in plan, plan


def test_a_word_with_a_dot_or_at_finds_the_addresses_and_domains_starting_with_it_first(app, as_role, people):
    with app.app_context(), unit_of_work.unit():
        ContactFactory(name="Ana Lopez", email="Ines.Ito@beacon.example")
        ContactFactory(name="Bo Chen", email="ines.ito.2@acme.example")
        ContactFactory(name="Cy Dale", email="bo@ines.ito.example")  # the domain starts with it
        ContactFactory(name="Di Eve", email="maines.ito@acme.example")  # holds it, does not start with it
    starting = in_name_order(app, ["Ana Lopez", "Bo Chen", "Cy Dale"])
    assert walk(app, "INES.ITO", 2) == starting == walk(app, "ines.ito", 2, backwards=True)
    assert walk(app, "ines.ito@", 2) == in_name_order(app, ["Ana Lopez"])  # with "@", addresses only
    assert walk(app, "ines.ito", 2, emails=True) == in_name_order(app, ["Ana Lopez", "Bo Chen", "Cy Dale", "Di Eve"])
    client = as_role("readonly")
    body = client.get("/contacts?q=ines.ito", htmx=True).get_data(as_text=True)
    assert "Contacts whose e-mail address or its domain starts with “ines.ito”." in body and "Di Eve" not in body
    assert 'href="/contacts?q=ines.ito&amp;in=emails"' in body  # anywhere in addresses, one click away
    body = client.get("/contacts?q=ines.ito&in=emails", htmx=True).get_data(as_text=True)
    assert "Di Eve" in body and "Look for it at the start of addresses instead" in body


def test_a_word_with_a_dot_that_no_address_starts_with_is_looked_for_in_names_and_anywhere_in_addresses(app, people):
    with app.app_context(), unit_of_work.unit():
        ContactFactory(name="Di Eve", email="maines.ito@acme.example")
        ContactFactory(name="Ed Ines.ito", email="ed@beacon.example")
    assert walk(app, "ines.ito", 2) == in_name_order(app, ["Di Eve", "Ed Ines.ito"])
    assert walk(app, "ines.ito", 2, customer=str(people)) == []  # the filters still apply
    assert walk(app, "in_s.ito", 2) == walk(app, "in%.ito", 2) == []  # "_" and "%" are text, not wildcards


def test_the_start_of_an_address_is_read_as_a_range_of_the_prefix_index(app):
    with app.app_context():
        sql, plan = sql_and_plan(directory._address_starts("ines.ito"))
    if plan is None:
        assert "contact.email_key LIKE 'ines.ito%'" in sql, sql
    else:
        assert "ix_contact_email_prefix" in plan and "ix_contact_email_domain" in plan, plan
        assert "~>=~ 'ines.ito'" in plan and "~<~ 'ines.itp'" in plan, plan
