"""Contacts see their own customer's invoices in the portal, never another customer's."""
from datetime import UTC, datetime
from decimal import Decimal

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.calls.models import HourlySummary
from panel.customers.models import Customer
from panel.extensions import db
from panel.invoices.billing import generate, void_invoice

NOW = datetime(2026, 11, 22, tzinfo=UTC)
DAY = datetime(2026, 11, 2, tzinfo=UTC)


def invoice_for(customer_id):
    db.session.add(HourlySummary(customer_id=customer_id, hour=DAY, calls=4, answered=3, seconds=100, billed_seconds=180,
                                 cost=Decimal("0.1"), charge=Decimal("0.35")))
    db.session.commit()
    with unit_of_work.unit():
        return generate(SYSTEM, db.session.get(Customer, customer_id), "daily", [DAY], now=NOW).created[0]


def test_a_contact_sees_and_prints_their_customers_invoices_only(app, world, portal_client):
    with app.app_context():
        mine, theirs = invoice_for(world.a).number, invoice_for(world.b).number
    client = portal_client(world.ana_email)
    listing = client.get("/portal/invoices").get_data(as_text=True)
    assert mine in listing and theirs not in listing
    page = client.get(f"/portal/invoices/{mine}")
    assert page.status_code == 200 and "0.35 USD" in page.get_data(as_text=True)
    assert "data-print" in page.get_data(as_text=True)
    assert client.get(f"/portal/invoices/{theirs}").status_code == 404


def test_the_portal_says_an_invoice_is_void_without_the_staff_reason(app, world, portal_client):
    with app.app_context():
        invoice = invoice_for(world.a)
        with unit_of_work.unit():
            void_invoice(SYSTEM, invoice, "internal: rated with the wrong deck")
        number = invoice.number
    body = portal_client(world.ana_email).get(f"/portal/invoices/{number}").get_data(as_text=True)
    assert "It is not payable" in body and "wrong deck" not in body


def test_portal_login_shows_the_impersonated_customers_invoices(app, world, impersonating):
    with app.app_context():
        number = invoice_for(world.a).number
    assert number in impersonating.get("/portal/invoices").get_data(as_text=True)
