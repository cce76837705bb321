"""A Completed payment is receipted by mail to the customer's recipients of payment receipts (Billing contacts,
else the customer's e-mail): amount, currency, date, method, reference, what it was allocated to and the balance
after, never a card or processor id. Composed as the unit of work commits (so a Store order's allocation is on
it) and sent after the commit: a request that fails or rolls back sends nothing."""
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.audit.models import AuditEntry
from panel.customers.models import Customer
from panel.extensions import db
from panel.invoices.models import Invoice, Payment
from panel.invoices.payment_receipts import masked
from panel.invoices.payments import record_payment
from panel.mail.models import MailMessage
from panel.store.models import Order
from tests.api.test_orders_api import placed_order_and_quote
from tests.factories import ContactFactory, InvoiceFactory, LedgerEntryFactory
from tests.mail_links import mailed

RECEIPT = "Payment receipt:"


def receipts(app, address=None):
    with app.app_context():
        query = sa.select(MailMessage).where(MailMessage.subject.startswith(RECEIPT)).order_by(MailMessage.id)
        if address:
            query = query.where(MailMessage.to_addr == address)
        return [(m.to_addr, m.subject, m.status) for m in db.session.scalars(query)]


def form(**values):
    return {"amount": "40.00", "method": "Bank transfer", "reference": "TRF-2026-001", "status": "Completed",
            "received_on": "2026-11-30"} | values


def test_staff_record_payment_mails_the_receipt_to_the_billing_contacts(app, as_role, customer):
    with app.app_context():
        ContactFactory(customer_id=customer, name="Bea Billing", email="bea@acme.example", contact_type="Billing")
        ContactFactory(customer_id=customer, name="Tia Tech", email="tia@acme.example", contact_type="Technical")
        LedgerEntryFactory(customer_id=customer, kind="charge", amount=Decimal("-15"))
    response = as_role("staff").post(f"/customers/{customer}/payments/new", form())
    assert response.status_code == 303
    (message,) = mailed(app.instance_path, "bea@acme.example")
    assert not mailed(app.instance_path, "tia@acme.example")
    assert message["Subject"] == "Payment receipt: 40.00 USD received from Acme Telecom"
    body = message.get_content()
    for text in ("Hello Bea Billing,", "Amount:       40.00 USD", "Received on:  2026-11-30", "Method:       Bank transfer",
                 "Reference:    TRF-2026-001", "Not allocated", "Balance after this payment: 25.00 USD",
                 "You receive this as a Billing contact of Acme Telecom."):
        assert text in body, text
    with app.app_context():
        sent = db.session.scalar(sa.select(MailMessage).where(MailMessage.to_addr == "bea@acme.example"))
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "SEND",
                                                              AuditEntry.row_id == str(sent.id)))
        assert sent.status == "sent" and entry is not None


def test_without_billing_contacts_the_receipt_goes_to_the_customer_email(app, as_role, customer):
    with app.app_context():
        db.session.get(Customer, customer).email = "accounts@acme.example"
        ContactFactory(customer_id=customer, email="tia@acme.example", contact_type="Technical")
        db.session.commit()
    as_role("staff").post(f"/customers/{customer}/payments/new", form())
    (message,) = mailed(app.instance_path, "accounts@acme.example")
    assert "which has no contact for this kind of mail" in message.get_content()
    assert receipts(app) == [("accounts@acme.example", "Payment receipt: 40.00 USD received from Acme Telecom", "sent")]


def test_a_pending_payment_is_receipted_when_it_becomes_completed_and_a_cancelled_one_never(app, as_role, customer):
    with app.app_context():
        ContactFactory(customer_id=customer, email="bea@acme.example", contact_type="Billing")
    staff = as_role("staff")
    staff.post(f"/customers/{customer}/payments/new", form(status="Pending"))
    staff.post(f"/customers/{customer}/payments/new", form(status="Pending", reference="TRF-2"))
    assert receipts(app) == []
    with app.app_context():
        first, second = db.session.scalars(sa.select(Payment.id).order_by(Payment.id)).all()
    assert staff.post(f"/customers/{customer}/payments/{first}/status", {"status": "Completed"}, htmx=True).status_code == 200
    assert staff.post(f"/customers/{customer}/payments/{second}/status", {"status": "Cancelled"}, htmx=True).status_code == 200
    assert len(receipts(app, "bea@acme.example")) == 1
    # Completed, then Cancelled: no second receipt.
    staff.post(f"/customers/{customer}/payments/{first}/status", {"status": "Cancelled"}, htmx=True)
    assert len(receipts(app, "bea@acme.example")) == 1


def test_a_refused_payment_form_and_a_rolled_back_unit_send_nothing(app, as_role, customer):
    with app.app_context():
        ContactFactory(customer_id=customer, email="bea@acme.example", contact_type="Billing")
    assert as_role("staff").post(f"/customers/{customer}/payments/new", form(amount="-1")).status_code == 422
    with app.app_context():
        with pytest.raises(RuntimeError):
            with unit_of_work.unit():
                record_payment(SYSTEM, db.session.get(Customer, customer), {
                    "amount": Decimal(5), "method": "Cash", "reference": "", "status": "Completed",
                    "received_on": date(2026, 11, 30)})
                raise RuntimeError("the request failed after the payment was recorded")
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MailMessage)) == 0
        # The next unit of work on the same session does not send the dropped receipt either.
        with unit_of_work.unit():
            LedgerEntryFactory(customer_id=customer, kind="credit", amount=Decimal(1))
    assert receipts(app) == [] and not mailed(app.instance_path, "bea@acme.example")


def test_a_store_order_paid_by_wire_is_receipted_with_the_invoice_it_paid(app, as_role):
    with app.app_context():
        number, _ = placed_order_and_quote()
        order = db.session.scalar(sa.select(Order).where(Order.number == number))
        ContactFactory(customer_id=order.customer_id, name="Bea Billing", email="bea@buyer.example",
                       contact_type="Billing")
        invoice_number = db.session.scalar(sa.select(Invoice.number).where(Invoice.id == order.invoice_id))
    response = as_role("staff").post(f"/orders/{number}/payment", {"method": "wire", "reference": "WIRE-778"})
    assert response.status_code in (200, 303), response.get_data(as_text=True)[:500]
    messages = [m for m in mailed(app.instance_path, "bea@buyer.example") if m["Subject"].startswith(RECEIPT)]
    assert len(messages) == 1
    body = messages[0].get_content()
    assert "Method:       Bank transfer" in body and "Reference:    WIRE-778" in body
    assert invoice_number and f"  {invoice_number:<20}" in body and "Not allocated" not in body


def test_processor_ids_never_reach_a_receipt():
    assert masked("O-000001 Visa •••• 4242") == "O-000001 Visa •••• 4242"
    assert masked("charge pi_3NxYzAbCdEf and ch_1Abcdefgh") == "charge [processor id] and [processor id]"
    assert masked("cus_Q1w2e3r4t5 / pm_card_visa0") == "[processor id] / [processor id]"
    assert masked("card_payment pending") == "card_payment pending"  # words, not an id


def test_a_receipt_lists_each_invoice_the_payment_was_allocated_to(app, customer):
    from panel.invoices.payments import allocate

    with app.app_context():
        ContactFactory(customer_id=customer, email="bea@acme.example", contact_type="Billing")
        first = InvoiceFactory(customer_id=customer, total=Decimal("30.00"))
        second = InvoiceFactory(customer_id=customer, total=Decimal("20.00"),
                                period_start=datetime(2026, 11, 9, tzinfo=UTC))
        numbers = (first.number, second.number)
        unit_of_work.commit()
        with unit_of_work.unit():
            payment = record_payment(SYSTEM, db.session.get(Customer, customer), {
                "amount": Decimal("60.00"), "method": "Cheque", "reference": "CHQ 88", "status": "Completed",
                "received_on": date(2026, 11, 30)})
            allocate(SYSTEM, payment, {first.id: Decimal("30.00"), second.id: Decimal("20.00")})
    (message,) = mailed(app.instance_path, "bea@acme.example")
    body = message.get_content()
    assert f"{numbers[0]:<20}{'30.00':>14} USD" in body and f"{numbers[1]:<20}{'20.00':>14} USD" in body
    assert f"{'Not allocated':<20}{'10.00':>14} USD" in body
    assert "Balance after this payment: 10.00 USD" in body
