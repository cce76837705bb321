"""A new invoice, generated or auto-generated, is mailed to the customer's Billing contacts (else the customer's
e-mail) with the content of its printable page and a link to it, after the commit, audited as SEND."""
import sqlalchemy as sa

from panel import unit_of_work
from panel.audit.models import AuditEntry
from panel.customers.models import Customer
from panel.extensions import db
from panel.invoices import billing
from panel.mail.models import MailMessage
from tests.factories import ContactFactory
from tests.invoices.data import at
from tests.mail_links import mailed


def test_a_generated_invoice_is_mailed_to_the_billing_contacts_with_its_content_and_link(app, as_role, traffic):
    with app.app_context():
        ContactFactory(customer_id=traffic, name="Bea Billing", email="bea@acme.example", contact_type="Billing")
        ContactFactory(customer_id=traffic, name="Tia Tech", email="tia@acme.example", contact_type="Technical")
    response = as_role("staff").post(f"/customers/{traffic}/invoices/generate",
                                     {"frame": "daily", "period": ["2026-11-02"]}, htmx=True)
    assert response.status_code == 200 and "Created INV-000001." in response.get_data(as_text=True)
    (message,) = mailed(app.instance_path, "bea@acme.example")
    assert not mailed(app.instance_path, "tia@acme.example")
    assert message["Subject"] == "Invoice INV-000001 for Acme Telecom"
    body = message.get_content()
    assert "Hello Bea Billing," in body and "Calls 2026-11-02 (UTC)" in body
    assert "Total: 2.25 USD" in body and "Due:   2.25 USD" in body
    assert "http://localhost/portal/invoices/INV-000001" in body
    assert "You receive this as a Billing contact of Acme Telecom." in body
    with app.app_context():
        sent = db.session.scalar(sa.select(MailMessage).where(MailMessage.to_addr == "bea@acme.example"))
        assert sent.status == "sent"
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "SEND",
                                                              AuditEntry.row_id == str(sent.id)))
        assert entry is not None and "INV-000001" in entry.data


def test_a_refused_generate_mails_nothing(app, as_role, traffic):
    with app.app_context():
        ContactFactory(customer_id=traffic, email="bea@acme.example", contact_type="Billing")
    client = as_role("staff")
    assert client.post(f"/customers/{traffic}/invoices/generate", {"frame": "daily", "period": ["2026-11-02", "2026-11-05"]},
                       htmx=True).status_code == 422
    assert not mailed(app.instance_path, "bea@acme.example")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MailMessage)) == 0


def test_auto_generated_invoices_go_to_the_customer_email_without_billing_contacts(app, traffic):
    with app.app_context():
        customer = db.session.get(Customer, traffic)
        customer.invoice_schedule, customer.email = "daily", "office@acme.example"
        db.session.commit()
        with unit_of_work.unit():  # as the worker runs it
            assert billing.auto_invoice_job(now=at("2026-11-22T01:05")) == "3 invoices made"
        messages = db.session.scalars(sa.select(MailMessage).order_by(MailMessage.id)).all()
        assert [(m.to_addr, m.subject) for m in messages] == [
            ("office@acme.example", f"Invoice INV-00000{n} for Acme Telecom") for n in (1, 2, 3)]
        # Outside a request there is no address to link to: the mail carries the whole invoice.
        assert "at the e-mail address of Acme Telecom" in messages[0].body and "Total:" in messages[0].body


def test_without_billing_contacts_or_customer_email_the_invoice_is_made_and_not_mailed(app, traffic):
    with app.app_context():
        with unit_of_work.unit():
            outcome = billing.generate(billing.actors.SYSTEM, db.session.get(Customer, traffic), "daily",
                                       [at("2026-11-02")], now=at("2026-11-22"))
        assert [i.number for i in outcome.created] == ["INV-000001"]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MailMessage)) == 0
