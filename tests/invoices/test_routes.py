"""The Invoices and Payments sections, the invoice page, Generate / Auto Generate over HTTP, Allocate Payment."""
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.customers.accounts import create_customer
from panel.invoices.balance import balance_of
from panel.customers.models import Customer
from panel.extensions import db
from panel.invoices import billing
from panel.invoices.models import Invoice, Payment
from panel.invoices.payments import record_payment, set_status
from tests.invoices.data import NOW, at


def generate(client, customer_id, frame, *periods):
    return client.post(f"/customers/{customer_id}/invoices/generate", {"frame": frame, "period": list(periods)}, htmx=True)


def test_generate_invoice_answers_with_the_section_and_refuses_a_second_time(as_role, traffic):
    client = as_role("staff")
    response = generate(client, traffic, "daily", "2026-11-02", "2026-11-03")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "Created INV-000001, INV-000002." in body
    assert response.headers["HX-Trigger"] == "invoices-changed"
    again = generate(client, traffic, "daily", "2026-11-03")
    assert again.status_code == 422
    assert "2026-11-03: already invoiced in INV-000002" in again.get_data(as_text=True)


def test_generate_explains_bad_requests(as_role, traffic):
    client = as_role("staff")
    for data, message in [({"frame": "live", "period": "2026-11-02T10:00"}, "Daily, Weekly or Monthly"),
                          ({"frame": "daily"}, "Check at least one period"),
                          ({"frame": "daily", "period": "2026-11-02T10"}, "is not a period start"),
                          ({"frame": "weekly", "period": "2026-11-03"}, "not the start of a weekly period"),
                          ({"frame": "daily", "period": "9999-12-31"}, "outside the years"),
                          ({"frame": "monthly", "period": "9999-12-01"}, "outside the years")]:
        response = client.post(f"/customers/{traffic}/invoices/generate", data, htmx=True)
        assert response.status_code == 422 and message in response.get_data(as_text=True), data


def test_readonly_staff_see_invoices_but_cannot_make_them(as_role, traffic):
    client = as_role("readonly")
    assert client.get(f"/customers/{traffic}/invoices", htmx=True).status_code == 200
    assert generate(client, traffic, "daily", "2026-11-02").status_code == 403


def test_the_invoice_page_shows_lines_paid_and_due_and_voids_with_a_reason(app, as_role, traffic):
    client = as_role("staff")
    generate(client, traffic, "weekly", "2026-11-02")
    with app.app_context():
        invoice_id = db.session.scalar(sa.select(Invoice.id))
    page = client.get(f"/customers/{traffic}/invoices/{invoice_id}").get_data(as_text=True)
    assert "Invoice INV-000001" in page and "Calls 2026-11-03 (UTC)" in page and "2.65 USD" in page
    refused = client.post(f"/customers/{traffic}/invoices/{invoice_id}/void", {"reason": "  "})
    assert refused.status_code == 422 and "Say why the invoice is void" in refused.get_data(as_text=True)
    done = client.post(f"/customers/{traffic}/invoices/{invoice_id}/void", {"reason": "Rated twice"})
    assert done.status_code == 303
    with app.app_context():
        assert db.session.get(Invoice, invoice_id).status == "void"


def test_another_customers_invoice_is_not_found(app, as_role, traffic):
    client = as_role("staff")
    generate(client, traffic, "daily", "2026-11-02")
    with app.app_context():
        other = create_customer(SYSTEM, {"name": "Other"}, "EUR").id
        unit_of_work.commit()
        invoice_id = db.session.scalar(sa.select(Invoice.id))
    assert client.get(f"/customers/{other}/invoices/{invoice_id}").status_code == 404


def test_auto_generate_button_uses_the_schedule(app, as_role, traffic):
    client = as_role("staff")
    response = client.post(f"/customers/{traffic}/invoices/auto-generate", htmx=True)
    assert response.status_code == 422 and "Set an Invoice Schedule" in response.get_data(as_text=True)
    with app.app_context():
        db.session.get(Customer, traffic).invoice_schedule = "weekly"
        db.session.commit()
    response = client.post(f"/customers/{traffic}/invoices/auto-generate", htmx=True)
    assert response.status_code == 200 and "Created INV-000001, INV-000002." in response.get_data(as_text=True)
    again = client.post(f"/customers/{traffic}/invoices/auto-generate", htmx=True)
    assert "is invoiced already" in again.get_data(as_text=True)


def test_only_completed_payments_count_toward_the_balance(app, as_role, customer):
    client = as_role("staff")
    bad = client.post(f"/customers/{customer}/payments/new",
                      {"amount": "-5", "method": "Cash", "status": "Pending", "received_on": "2026-11-20"})
    assert bad.status_code == 422 and "more than zero" in bad.get_data(as_text=True)
    assert 'value="-5"' in bad.get_data(as_text=True)
    ok = client.post(f"/customers/{customer}/payments/new",
                     {"amount": "100.00", "method": "Bank transfer", "reference": "TRX-1", "status": "Pending",
                      "received_on": "2026-11-20"})
    assert ok.status_code == 303
    with app.app_context():
        payment_id = db.session.scalar(sa.select(Payment.id))
        assert balance_of(customer) == 0
    section = client.post(f"/customers/{customer}/payments/{payment_id}/status", {"status": "Completed"}, htmx=True)
    assert section.status_code == 200 and "Completed" in section.get_data(as_text=True)
    with app.app_context():
        assert balance_of(customer) == Decimal("100")
    section = client.post(f"/customers/{customer}/payments/{payment_id}/status", {"status": "Pending"}, htmx=True)
    assert section.status_code == 409 and "cannot become Pending" in section.get_data(as_text=True)


def test_allocate_payment_pays_invoices_and_cancelling_takes_it_back(app, as_role, traffic):
    client = as_role("staff")
    with app.app_context():
        customer = db.session.get(Customer, traffic)
        with unit_of_work.unit():
            first, second = billing.generate(SYSTEM, customer, "daily", [at("2026-11-02"), at("2026-11-03")],
                                             now=NOW).created
            payment = record_payment(SYSTEM, customer, {"amount": Decimal("2.50"), "method": "Cash", "reference": "R1",
                                                        "status": "Completed", "received_on": date(2026, 11, 20)})
        ids = first.id, second.id, payment.id
    url = f"/customers/{traffic}/payments/{ids[2]}/allocate"
    form = client.get(url).get_data(as_text=True)
    assert "INV-000001" in form and "INV-000002" in form
    too_much = client.post(url, {f"amount-{ids[0]}": "2.25", f"amount-{ids[1]}": "0.40"})
    assert too_much.status_code == 422 and "more than the 2.50 USD" in too_much.get_data(as_text=True)
    junk = client.post(url, {f"amount-{ids[0]}": "abc"})
    assert junk.status_code == 422 and "Enter an amount such as" in junk.get_data(as_text=True)
    assert client.post(url, {f"amount-{ids[0]}": "2.25", f"amount-{ids[1]}": "0.25"}).status_code == 303
    with app.app_context():
        assert [db.session.get(Invoice, i).status for i in ids[:2]] == ["paid", "issued"]
        page = client.get(f"/customers/{traffic}/invoices/{ids[1]}").get_data(as_text=True)
        assert "0.25 USD" in page and "0.15 USD" in page  # paid, due
        with unit_of_work.unit():
            set_status(SYSTEM, db.session.get(Payment, ids[2]), "Cancelled")
        assert db.session.get(Invoice, ids[0]).status == "issued"
        assert balance_of(traffic) == Decimal("-2.65")
