"""A portal Admin contact's List All shows each customer of its tree with Status, Balance and support credits
at a glance (reference 000), in as many queries for 30 sub-accounts as for 2."""
import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import event

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.customers.models import Customer
from panel.extensions import db
from panel.invoices.models import Payment
from panel.support import credits
from tests.factories import ContactFactory, CustomerFactory
from tests.helpers import portal_sign_in


def _add_subs(app, reseller_id: int, start: int, stop: int) -> None:
    with app.app_context():
        for n in range(start, stop):
            sub = CustomerFactory(name=f"Sub {n:03d}", reseller_id=reseller_id, status="Active" if n % 2 else "Penalty")
            db.session.flush()
            db.session.add(Payment(customer_id=sub.id, amount=Decimal(n), currency="USD", method="Cash",
                                   status="Completed", received_on=date(2026, 11, 1), created_by="test"))
            credits.purchase(SYSTEM, sub, Decimal("2.50"), "Credit card", f"REF-{n}")
        unit_of_work.commit()


@pytest.fixture
def reseller(app):
    with app.app_context():
        reseller = CustomerFactory(name="Aaa Reseller")
        ContactFactory(customer_id=reseller.id, name="Rita Admin", email="rita@reseller.example", contact_type="Admin")
        ContactFactory(customer_id=reseller.id, name="Tom Tech", email="tom@reseller.example", contact_type="Technical")
        return reseller.id


def _row(page: str, name: str) -> str:
    return re.search(rf"<tr>(?:(?!</tr>).)*{name}(?:(?!</tr>).)*</tr>", page, re.S).group(0)


def test_an_admin_sees_status_balance_and_credits_of_each_sub_account(app, reseller):
    _add_subs(app, reseller, 1, 3)
    page = portal_sign_in(app, "rita@reseller.example").get("/portal/customers").get_data(as_text=True)
    assert "<th class=\"num\">Balance</th>" in page and "<th class=\"num\">Support credits</th>" in page
    first, second = _row(page, "Sub 001"), _row(page, "Sub 002")
    assert "Active" in first and "1.00 USD" in first and "2.50" in first
    assert "Penalty" in second and "2.00 USD" in second
    own = _row(page, "Aaa Reseller")
    assert "0.00 USD" in own


def test_another_contact_sees_only_their_own_customer_with_its_figures(app, reseller):
    _add_subs(app, reseller, 1, 2)
    page = portal_sign_in(app, "tom@reseller.example").get("/portal/customers").get_data(as_text=True)
    assert "Aaa Reseller" in page and "Sub 001" not in page and "<th class=\"num\">Balance</th>" in page


def test_the_list_issues_as_many_queries_with_30_sub_accounts_as_with_2(app, reseller):
    _add_subs(app, reseller, 1, 3)
    client = portal_sign_in(app, "rita@reseller.example")
    client.get("/portal/customers")

    def count() -> int:
        statements = []
        with app.app_context():
            engine = db.engine
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert client.get("/portal/customers").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(statements)

    small = count()
    _add_subs(app, reseller, 3, 31)
    with app.app_context():
        assert db.session.query(Customer).filter(Customer.reseller_id == reseller).count() == 30
    assert count() == small
