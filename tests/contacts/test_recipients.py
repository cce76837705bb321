"""Who receives mail of each kind for a customer (panel/contacts/recipients.py), the type chosen deliberately
for a new contact with its meaning beside the field, and the Main tab's "Mail goes to" table."""
import re

import pytest

from panel.actor import SYSTEM
from panel.contacts.recipients import KINDS, mail_plan, recipients, recipients_of_own_mail
from panel.contacts.models import Contact
from panel.customers.models import Customer
from panel.extensions import db
from tests.factories import ContactFactory, CustomerFactory


@pytest.fixture
def people(app):
    """A customer with one active contact of every type, a second Billing contact, and inactive ones."""
    with app.app_context():
        customer = CustomerFactory(name="Acme Telecom", email="office@acme.example")
        for name, kind in [("Adam Admin", "Admin"), ("Bea Billing", "Billing"), ("Bob Billing", "Billing"),
                           ("Tia Tech", "Technical"), ("Max Maint", "Maintainer"), ("Ola Onsite", "Onsite Admin"),
                           ("Oli Other", "Other")]:
            ContactFactory(customer_id=customer.id, name=name, email=f"{name.split()[0].lower()}@acme.example",
                           contact_type=kind)
        ContactFactory(customer_id=customer.id, name="Gone Billing", email="gone@acme.example",
                       contact_type="Billing", active=False)
        bare = CustomerFactory(name="Bare Inc", email="")
        ContactFactory(customer_id=bare.id, name="Only Admin", email="only@bare.example", contact_type="Admin")
        return {"acme": customer.id, "bare": bare.id}


def _emails(customer_id, kind):
    return [r.email for r in recipients(db.session.get(Customer, customer_id), kind)]


@pytest.mark.parametrize("kind", ["invoice", "payment_receipt", "balance_alert"])
def test_money_mail_goes_to_the_active_billing_contacts(app, people, kind):
    with app.app_context():
        assert _emails(people["acme"], kind) == ["bea@acme.example", "bob@acme.example"]


@pytest.mark.parametrize("kind", ["issue_report", "outage_notice"])
def test_issue_and_outage_mail_goes_to_support_and_technical_contacts(app, people, kind):
    with app.app_context():
        assert sorted(_emails(people["acme"], kind)) == ["max@acme.example", "ola@acme.example", "oli@acme.example",
                                                         "tia@acme.example"]
        assert "adam@acme.example" not in _emails(people["acme"], kind)


def test_without_a_contact_of_the_type_the_customer_email_receives_and_without_it_nobody(app, people):
    with app.app_context():
        for kind in KINDS:
            assert _emails(people["bare"], kind) == []
        bare = db.session.get(Customer, people["bare"])
        bare.email = "desk@bare.example"
        db.session.flush()
        (fallback,) = recipients(bare, "invoice")
        assert fallback.email == "desk@bare.example" and fallback.fallback
        assert "at the e-mail address of Bare Inc" in fallback.why("Bare Inc")


def test_unknown_kinds_are_refused(app, people):
    with app.app_context():
        with pytest.raises(ValueError, match="no mail kind"):
            recipients(db.session.get(Customer, people["acme"]), "newsletter")


def test_welcome_and_password_mail_goes_to_the_contact_themselves(app, people):
    with app.app_context():
        admin = db.session.query(Contact).filter_by(email="adam@acme.example").one()
        assert [r.email for r in recipients_of_own_mail(admin)] == ["adam@acme.example"]


def test_the_mail_plan_groups_kinds_by_contact_types(app, people):
    with app.app_context():
        plan = mail_plan(SYSTEM, db.session.get(Customer, people["acme"]))
        assert [(route.label, [r.email for r in route.recipients]) for route in plan] == [
            ("Invoices, payment receipts, balance alerts", ["bea@acme.example", "bob@acme.example"]),
            ("Issue reports, outage notices", ["max@acme.example", "ola@acme.example", "oli@acme.example", "tia@acme.example"]),
        ]


def test_the_main_tab_shows_who_receives_what(as_role, people):
    client = as_role("readonly")
    section = client.get(f"/customers/{people['bare']}/contacts", htmx=True).get_data(as_text=True)
    assert "Mail goes to" in section and "Invoices, payment receipts, balance alerts" in section
    assert section.count("nobody: no such contact and no customer e-mail") == 2
    section = client.get(f"/customers/{people['acme']}/contacts", htmx=True).get_data(as_text=True)
    row = re.search(r"<tr><td>Invoices, payment receipts, balance alerts</td>.*?</tr>", section, re.S).group(0)
    assert "Bea Billing" in row and "Bob Billing" in row and "Tia Tech" not in row


def test_a_new_contact_needs_a_type_chosen_and_the_form_says_what_each_means(app, as_role, people):
    client = as_role("staff")
    form = client.get(f"/customers/{people['bare']}/contacts/new", htmx=True).get_data(as_text=True)
    select = re.search(r'<select[^>]*name="contact_type"[^>]*>(.*?)</select>', form, re.S)
    assert re.search(r'<option selected value="">Choose a type…</option>', select.group(1))
    assert "Billing: invoices, payment receipts, balance alerts." in form
    data = {"name": "Nia New", "email": "nia@bare.example", "auto_password": "y", "save_action": "continue"}
    refused = client.post(f"/customers/{people['bare']}/contacts", data, htmx=True)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Choose the contact&#39;s type: it decides which mail they receive." in body
    assert 'value="nia@bare.example"' in body  # what was typed stays
    with app.app_context():
        assert db.session.query(Contact).filter_by(email="nia@bare.example").count() == 0
    assert client.post(f"/customers/{people['bare']}/contacts", {**data, "contact_type": "Billing"}, htmx=True).status_code == 200
    with app.app_context():
        assert db.session.query(Contact).filter_by(email="nia@bare.example").one().contact_type == "Billing"
