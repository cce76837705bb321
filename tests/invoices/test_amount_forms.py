"""Amounts typed into Record Payment and Allocate Payment: one rule, messages by the field, typed text kept,
422 and nothing written on a refusal, all or nothing; the inputs' hints say the same rule."""
import re
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from panel import money, unit_of_work
from panel.actor import SYSTEM
from panel.audit.models import AuditEntry
from panel.customers.accounts import create_customer
from panel.customers.models import Customer
from panel.extensions import db
from panel.invoices import billing
from panel.invoices.models import Invoice, Payment, PaymentAllocation
from panel.invoices.payments import record_payment
from tests.invoices.data import NOW, add_hours, at

PAYMENT = {"method": "Bank transfer", "reference": "TX-50", "status": "Completed", "received_on": "2026-11-20"}


def field_html(body: str, name: str) -> str:
    """The `<div class="field">` (or table cell) holding the input `name`, with its messages."""
    start = body.index(f'name="{name}"')
    opening = max(body.rfind('<div class="field', 0, start), body.rfind('<td class="field', 0, start))
    return body[opening:body.index("</div>" if body[opening + 1] == "d" else "</td>", start)]


def counts() -> tuple[int, int, int]:
    return (db.session.scalar(sa.select(sa.func.count()).select_from(Payment)),
            db.session.scalar(sa.select(sa.func.count()).select_from(PaymentAllocation)),
            db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)))


def test_a_decimal_comma_in_record_payment_is_refused_by_the_field_and_nothing_is_written(app, as_role, customer):
    client = as_role("staff")
    with app.app_context():
        before = counts()
    response = client.post(f"/customers/{customer}/payments/new", {"amount": "50,00", **PAYMENT})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    amount = field_html(body, "amount")
    assert "Use a point for decimals: 50.00." in amount and 'value="50,00"' in amount and 'aria-invalid="true"' in amount
    assert 'value="TX-50"' in body
    with app.app_context():
        assert counts() == before
    ok = client.post(f"/customers/{customer}/payments/new", {"amount": "5,000.00", **PAYMENT})
    assert ok.status_code == 303
    with app.app_context():
        assert db.session.scalars(sa.select(Payment.amount)).all() == [Decimal("5000.00")]


def test_record_payment_takes_the_customers_minor_unit_and_its_input_says_so(app, as_role):
    client = as_role("staff")
    with app.app_context(), unit_of_work.unit():
        yen = create_customer(SYSTEM, {"name": "Tokyo Voice", "status": "Active", "channel_limit": 5}, "JPY").id
        dinar = create_customer(SYSTEM, {"name": "Gulf Voice", "status": "Active", "channel_limit": 5}, "KWD").id
    form = client.get(f"/customers/{yen}/payments/new").get_data(as_text=True)
    assert 'inputmode="numeric"' in form and f'pattern="{money.pattern(0)}"' in form
    refused = client.post(f"/customers/{yen}/payments/new", {"amount": "1500.50", **PAYMENT})
    assert refused.status_code == 422 and "this currency has no decimal places" in refused.get_data(as_text=True)
    assert client.post(f"/customers/{yen}/payments/new", {"amount": "1,500", **PAYMENT}).status_code == 303
    form = client.get(f"/customers/{dinar}/payments/new").get_data(as_text=True)
    assert 'inputmode="decimal"' in form and f'pattern="{money.pattern(3)}"' in form
    assert client.post(f"/customers/{dinar}/payments/new", {"amount": "12.345", **PAYMENT}).status_code == 303
    with app.app_context():
        assert sorted(db.session.scalars(sa.select(Payment.amount))) == [Decimal("12.345"), Decimal("1500")]


def test_allocate_payment_is_a_form_with_a_message_by_each_amount_and_allocates_all_or_nothing(app, as_role, traffic):
    client = as_role("staff")
    with app.app_context(), unit_of_work.unit():
        customer = db.session.get(Customer, traffic)
        first, second = billing.generate(SYSTEM, customer, "daily", [at("2026-11-02"), at("2026-11-03")],
                                         now=NOW).created
        payment = record_payment(SYSTEM, customer, {"amount": Decimal("3.00"), "method": "Cash", "reference": "R1",
                                            "status": "Completed", "received_on": date(2026, 11, 20)})
        ids, dues, payment_id = (first.id, second.id), (first.total, second.total), payment.id
        before = counts()
    assert dues == (Decimal("2.25"), Decimal("0.40"))
    url = f"/customers/{traffic}/payments/{payment_id}/allocate"
    page = client.get(url).get_data(as_text=True)
    cell = field_html(page, f"amount-{ids[0]}")
    assert 'inputmode="decimal"' in cell and 'placeholder' not in cell and 'up to 2.25' in cell and 'aria-label="Amount for INV-000001"' in cell
    for typed, message in [(("2,25", "0.40"), (f"amount-{ids[0]}", "Use a point for decimals: 2.25.")),
                           (("2.25", "0.41"), (f"amount-{ids[1]}", "That is more than the 0.40 due.")),
                           (("2.25", "-1"), (f"amount-{ids[1]}", "Enter an amount above zero, or leave it empty.")),
                           (("2.255", ""), (f"amount-{ids[0]}", "Use at most 2 decimal places."))]:
        response = client.post(url, {f"amount-{ids[0]}": typed[0], f"amount-{ids[1]}": typed[1]})
        body = response.get_data(as_text=True)
        assert response.status_code == 422, typed
        name, text = message
        assert text in field_html(body, name), typed
        for invoice_id, value in zip(ids, typed):
            assert f'value="{value}"' in field_html(body, f"amount-{invoice_id}") or not value, typed
        with app.app_context():
            assert counts() == before, typed
    nothing = client.post(url, {f"amount-{ids[0]}": "", f"amount-{ids[1]}": " "})
    assert nothing.status_code == 422 and "Enter an amount for at least one invoice." in nothing.get_data(as_text=True)
    done = client.post(url, {f"amount-{ids[0]}": "2.25", f"amount-{ids[1]}": "0.40"})
    assert done.status_code == 303
    with app.app_context():
        assert [db.session.get(Invoice, i).status for i in ids] == ["paid", "paid"]


def test_the_customer_form_reads_the_debit_limit_in_the_customers_currency(app, as_role):
    client = as_role("admin")
    data = {"name": "Kyoto Lines", "status": "Active", "currency": "JPY", "channel_limit": "1", "flow_speed": "0",
            "invoice_schedule": "none", "customer_type": "End Customer", "payment_terms": "Prepaid"}
    refused = client.post("/customers/new", {**data, "debit_limit": "1.234,56"})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Use a point for decimals" in field_html(body, "debit_limit")
    assert 'value="1.234,56"' in field_html(body, "debit_limit")
    whole = client.post("/customers/new", {**data, "debit_limit": "500.5"})
    assert whole.status_code == 422 and "this currency has no decimal places" in whole.get_data(as_text=True)
    assert client.post("/customers/new", {**data, "debit_limit": "50,000"}).status_code == 303
    with app.app_context():
        customer = db.session.scalar(sa.select(Customer).where(Customer.name == "Kyoto Lines"))
        assert customer.debit_limit == Decimal("50000")
    edit = client.get(f"/customers/{customer.id}/edit").get_data(as_text=True)
    assert re.search(r'name="debit_limit"[^>]*value="50000"', edit) or re.search(r'value="50000"[^>]*name="debit_limit"', edit)


def test_a_charge_below_half_a_minor_unit_makes_an_invoice_that_is_settled_as_made(app):
    with app.app_context():
        yen = create_customer(SYSTEM, {"name": "Tokyo Voice", "status": "Active", "channel_limit": 5}, "JPY")
        add_hours(yen.id, ("2026-11-02T09", 1, "0.4999"))
        invoice, = billing.generate(SYSTEM, yen, "daily", [at("2026-11-02")], now=NOW).created
        assert (invoice.total, invoice.status, invoice.lines[0].charge) == (Decimal(0), "paid", Decimal(0))
