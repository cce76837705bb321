"""The audit log names what an entry is about ("contact Carol Jones (Acme Telecom)", "contact #7 (deleted)")
with a fixed number of queries per page, and its User filter matches part of a name or e-mail."""
import re

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from panel import actor as actors
from panel import unit_of_work
from panel.audit import queries
from panel.audit.recorder import record_event
from panel.contacts.models import Contact
from panel.extensions import db
from tests.factories import ContactFactory, CustomerFactory, StaffUserFactory
from tests.helpers import staff_sign_in


def rows(response):
    return re.findall(r'<tr id="audit-(\d+)">', response.get_data(as_text=True))


def objects(response):
    return re.findall(r'<td class="audit-object">([^<]*)</td>', response.get_data(as_text=True))


def test_entries_name_the_object_and_its_customer_and_a_deleted_one_keeps_its_id(app, as_role, customer):
    with app.app_context():
        carol = ContactFactory(customer_id=customer, name="Carol Jones").id
        gone = ContactFactory(customer_id=customer, name="Gone Person").id
        db.session.delete(db.session.get(Contact, gone))
        db.session.commit()
    page = as_role("readonly").get(f"/customers/{customer}/audit")
    named = objects(page)
    assert named.count("contact Carol Jones (Acme Telecom)") == 1
    assert named.count(f"contact #{gone} (deleted)") == 2  # its insert and its delete
    assert "customer Acme Telecom" in named
    assert f"contact #{carol}" not in named


def test_naming_the_objects_costs_the_same_queries_for_2_entries_as_for_40(app, as_role, customer):
    client = as_role("readonly")
    app.config["PAGE_SIZE"] = 50

    def statements() -> int:
        count = []
        with app.app_context():
            listener = lambda *args: count.append(1)  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listener)
            try:
                assert client.get("/audit?table=contact").status_code == 200
            finally:
                event.remove(db.engine, "before_cursor_execute", listener)
        return len(count)

    with app.app_context():
        ContactFactory(customer_id=customer)
        ContactFactory(customer_id=CustomerFactory().id)
    statements()  # the first request of a session loads what later ones find cached
    few = statements()
    with app.app_context():
        for n in range(38):
            ContactFactory(customer_id=CustomerFactory().id if n % 2 else customer)
    assert len(rows(client.get("/audit?table=contact"))) == 40
    assert statements() == few


def test_the_user_filter_matches_part_of_a_name_or_e_mail_whatever_the_case(app, customer):
    with app.app_context():
        StaffUserFactory(email="carol.jones@carrier.example", name="Carol Jones")
        StaffUserFactory(email="dave@carrier.example", name="Dave Smith", role="admin")
        contact = ContactFactory(customer_id=customer, name="Erin Portal", email="erin@acme.example")
        with unit_of_work.unit():
            record_event("LOGIN", "Sign-in", customer_id=customer, actor=actors.contact(contact))
    carol = staff_sign_in(app, "carol.jones@carrier.example")
    carol.post(f"/customers/{customer}/edit", {"name": "Acme by Carol", "status": "Active", "debit_limit": "0",
                                               "channel_limit": "30", "flow_speed": "0"})
    dave = staff_sign_in(app, "dave@carrier.example")
    by_carol = rows(dave.get("/audit?user=carol.jones@carrier.example"))
    assert by_carol  # her sign-in and her change
    for typed in ("CAROL", "jones", "rol.jo", "Carol Jones"):
        assert rows(dave.get(f"/audit?user={typed}")) == by_carol, typed
    erin = rows(dave.get("/audit?user=ERIN"))
    assert len(erin) == 1 and rows(dave.get("/audit?user=acme.example")) == erin
    assert set(rows(dave.get("/audit?user=carrier.example"))) > set(by_carol)
    assert rows(dave.get("/audit?user=nobody-like-this")) == []
    assert rows(dave.get("/audit?user=%25")) == []  # a LIKE wildcard is a character like any other
    system = rows(dave.get("/audit?user=SYST"))
    assert system and not set(system) & set(by_carol)


@pytest.mark.postgres
def test_the_user_filter_finds_contacts_through_the_trigram_indexes(pg_app):
    """The contacts a User filter names are looked for with ILIKE, which the trigram indexes on name and e-mail
    serve: a text few of 10M contacts hold (an address, a full name) is read from them, not looked for by
    walking the whole table in id order. The plan is asked for with sequential and plain index scans off, which
    a near-empty test table would make the cheapest: what is left shows which indexes can serve the filter."""
    sent = []

    def keep(connection, cursor, statement, parameters, context, executemany):
        if re.search(r"\bFROM contact\s+WHERE", statement):
            sent.append((statement, parameters))

    with pg_app.app_context():
        event.listen(db.engine, "before_cursor_execute", keep)
        try:
            queries.user_clause("erin.portal@acme.example")
        finally:
            event.remove(db.engine, "before_cursor_execute", keep)
        (statement, parameters), = sent
        connection = db.session.connection()
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        connection.exec_driver_sql("SET LOCAL enable_indexscan = off")
        plan = "\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters))
        db.session.rollback()
    assert "ix_contact_email_trgm" in plan and "ix_contact_name_trgm" in plan and "Seq Scan" not in plan, plan
