"""Record Payment and Allocate Payment explain themselves: fields in reading order with the button last,
Received on defaulting to today (a date control, with a hint and messages that match it), Completed by
default, and Allocate amounts whose limit is help text rather than a placeholder that looks typed."""
import re
from decimal import Decimal

import sqlalchemy as sa

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.customers.models import Customer
from panel.extensions import db
from panel.invoices.models import Payment
from panel.invoices.payments import record_payment
from panel.types import utcnow
from tests.invoices.data import NOW


def test_record_payment_lists_its_fields_in_reading_order_with_the_button_last(as_role, customer):
    page = as_role("staff").get(f"/customers/{customer}/payments/new").get_data(as_text=True)
    order = [page.index(marker) for marker in ('name="amount"', 'name="received_on"', 'name="method"',
                                               'name="reference"', 'name="status"', ">Record Payment</button>")]
    assert order == sorted(order)
    assert 'class="card payment-form"' in page and "form-grid" not in page


def test_received_on_is_a_date_control_set_to_today_and_completed_is_the_default(as_role, customer):
    page = as_role("staff").get(f"/customers/{customer}/payments/new").get_data(as_text=True)
    today = utcnow().date().isoformat()
    assert re.search(rf'<input[^>]*type="date"[^>]*value="{today}"', page) or \
        re.search(rf'<input[^>]*value="{today}"[^>]*type="date"', page)
    assert "YYYY-MM-DD" not in page  # the hint speaks of the date control, not of a typed format
    assert re.search(r'<option selected value="Completed">|<option value="Completed" selected>', page)


def test_a_payment_recorded_with_the_defaults_is_completed_today(app, as_role, customer):
    client = as_role("staff")
    response = client.post(f"/customers/{customer}/payments/new", {"amount": "12.50", "method": "Cash",
                                                                   "status": "Completed",
                                                                   "received_on": utcnow().date().isoformat()})
    assert response.status_code == 303
    with app.app_context():
        payment = db.session.scalars(sa.select(Payment)).one()
        assert (payment.amount, payment.status, payment.received_on) == (Decimal("12.50"), "Completed", utcnow().date())


def test_a_missing_or_bad_date_is_explained_in_words_of_the_date_control(as_role, customer):
    client = as_role("staff")
    for typed, message in [("", "Pick the day the payment was received."),
                           ("30/11/2026", "That is not a date: pick the day the payment was received.")]:
        response = client.post(f"/customers/{customer}/payments/new",
                               {"amount": "5", "method": "Cash", "status": "Completed", "received_on": typed})
        body = response.get_data(as_text=True)
        assert response.status_code == 422 and message in body, typed
        assert 'value="5"' in body  # what was typed stays


def test_allocate_shows_each_limit_as_help_not_as_a_placeholder(app, as_role, traffic):
    client = as_role("staff")
    assert client.post(f"/customers/{traffic}/invoices/generate", {"frame": "weekly", "period": "2026-11-02"},
                       htmx=True).status_code == 200
    with app.app_context():
        with unit_of_work.unit():
            payment = record_payment(SYSTEM, db.session.get(Customer, traffic), {
                "amount": Decimal("500"), "method": "Cash", "reference": "R1", "status": "Completed",
                "received_on": NOW.date()})
        payment_id = payment.id
    page = client.get(f"/customers/{traffic}/payments/{payment_id}/allocate").get_data(as_text=True)
    amount_input = re.search(r'<input[^>]*name="amount-\d+"[^>]*>', page).group(0)
    assert "placeholder" not in amount_input
    help_id = re.search(r'aria-describedby="(due-\d+)"', amount_input).group(1)
    assert re.search(rf'<small id="{help_id}" class="help">up to 2\.65</small>', page)
