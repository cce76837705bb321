"""The invoice's Total and Due stand out at the head of the invoice (staff page, portal page and its print view)."""
import re

import sqlalchemy as sa

from panel.extensions import db
from panel.invoices.models import Invoice
from tests.factories import ContactFactory
from tests.helpers import portal_sign_in


def _amounts(body: str) -> str:
    return re.search(r'<dl class="invoice-amounts"[^>]*>(.*?)</dl>', body, re.S).group(1)


def test_total_and_due_head_the_invoice_on_the_staff_and_portal_pages(app, as_role, traffic):
    client = as_role("staff")
    assert client.post(f"/customers/{traffic}/invoices/generate", {"frame": "daily", "period": ["2026-11-02"]},
                       htmx=True).status_code == 200
    with app.app_context():
        invoice_id = db.session.scalar(sa.select(Invoice.id))
        ContactFactory(customer_id=traffic, email="pat@acme.example", contact_type="Billing")
    staff_page = client.get(f"/customers/{traffic}/invoices/{invoice_id}").get_data(as_text=True)
    head = _amounts(staff_page)
    assert re.search(r"<dt>Total</dt><dd[^>]*>2.25 USD</dd>", head) and re.search(r"<dt>Due</dt><dd[^>]*>2.25 USD</dd>", head)
    assert 'class="invoice-total"' in staff_page and 'class="invoice-due"' in staff_page
    portal_page = portal_sign_in(app, "pat@acme.example").get("/portal/invoices/INV-000001").get_data(as_text=True)
    assert "2.25 USD" in _amounts(portal_page)
