"""Support credits in the portal: a contact sees their own customer's balance and transaction log,
never another customer's, never who on the staff made an entry, and never changes the ledger."""
from decimal import Decimal

import sqlalchemy as sa

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.contacts.records import create_contact
from panel.customers.accounts import create_customer
from panel.customers.models import Customer
from panel.extensions import db
from panel.support import credits
from panel.support.models import CreditTransaction
from tests.conftest import PanelClient

PASSWORD = "contact password 123"


def signed_in(app, email):
    client = PanelClient(app.test_client())
    assert client.post("/portal/login", {"email": email, "password": PASSWORD}).status_code == 303
    client.forget_token()
    return client


def setup_two_customers(app, staff_users, as_role):
    with app.app_context():
        alpha = create_customer(SYSTEM, {"name": "Alpha Voice", "status": "Active"}, "USD").id
        unit_of_work.commit()
        beta = create_customer(SYSTEM, {"name": "Beta Networks", "status": "Active"}, "USD").id
        unit_of_work.commit()
        create_contact(SYSTEM, alpha, {"name": "Ana", "email": "ana@alpha.example", "contact_type": "Admin"}, password=PASSWORD)
        db.session.commit()
    staff = as_role("staff")
    for customer_id, amount, reference in [(alpha, "20", "PO-ALPHA"), (beta, "99", "PO-BETA-SECRET")]:
        staff.post(f"/customers/{customer_id}/support-credits/purchases",
                   {"purchase-credits": amount, "purchase-payment_method": "Purchase order",
                    "purchase-reference": reference}, htmx=True)
    staff.post(f"/customers/{alpha}/support-credits/deductions", {"credits": "2.5", "ticket_reference": "TCK-77"},
               htmx=True)
    return alpha, beta


def test_the_portal_shows_the_balance_and_the_log_of_the_contacts_own_customer(app, staff_users, as_role):
    alpha, beta = setup_two_customers(app, staff_users, as_role)
    client = signed_in(app, "ana@alpha.example")
    home = client.get("/portal/").get_data(as_text=True)
    assert 'href="/portal/support-credits"' in home and "17.50" in home
    page = client.get("/portal/support-credits")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "17.50" in body and "PO-ALPHA" in body and "TCK-77" in body and "-2.50" in body
    assert "PO-BETA" not in body and "99.00" not in body
    assert "staff@example.com" not in body and "Reverse" not in body and "Add purchase" not in body
    # The customer comes from the session: a customer id in the query string changes nothing.
    assert "PO-BETA" not in client.get(f"/portal/support-credits?customer_id={beta}").get_data(as_text=True)


def test_portal_contacts_never_add_deduct_or_reverse_credits(app, staff_users, as_role):
    alpha, _ = setup_two_customers(app, staff_users, as_role)
    portal_writes = [rule for rule in app.url_map.iter_rules()
                     if rule.endpoint.startswith("portal.") and "credit" in rule.rule and rule.methods - {"GET", "HEAD", "OPTIONS"}]
    assert portal_writes == []
    client = signed_in(app, "ana@alpha.example")
    with app.app_context():
        first = db.session.scalar(sa.select(sa.func.min(CreditTransaction.id)))
    for url, data in [(f"/customers/{alpha}/support-credits/purchases",
                       {"purchase-credits": "5", "purchase-payment_method": "Other", "purchase-reference": "R"}),
                      (f"/customers/{alpha}/support-credits/deductions", {"credits": "5", "ticket_reference": "T"}),
                      (f"/customers/{alpha}/support-credits/{first}/reverse", {"note": "x"})]:
        response = client.post(url, data)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), url
        assert client.post(f"/portal{url[len('/customers'):]}", data).status_code in (404, 405), url
    with app.app_context():
        assert credits.balance(alpha) == Decimal("17.50")
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CreditTransaction)) == 3
        assert db.session.get(Customer, alpha).name == "Alpha Voice"
