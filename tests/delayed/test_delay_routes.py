"""Delay and Save through the forms, the Main tab's pending panel, the Delay Log and Cancel."""
import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from panel.actor import SYSTEM
from panel.contacts.records import create_contact
from panel.customers.models import Customer
from panel.delayed.models import PendingChange
from panel.extensions import db

# What the edit page submits untouched (the shipping box is ticked for a new customer).
CUSTOMER = {"name": "Acme Telecom", "status": "Active", "debit_limit": "0", "channel_limit": "30", "flow_speed": "0",
            "shipping_same_as_billing": "y"}


def pending(app):
    with app.app_context():
        return db.session.scalars(sa.select(PendingChange)).all()


def test_customer_form_save_and_stay_returns_to_the_form(as_role, customer):
    response = as_role("staff").post(f"/customers/{customer}/edit", {**CUSTOMER, "name": "Acme 2", "save_action": "stay"})
    assert response.status_code == 303 and response.headers["Location"] == f"/customers/{customer}/edit"


def test_new_customer_save_and_stay_offers_a_new_form(as_role):
    response = as_role("staff").post("/customers/new", {**CUSTOMER, "currency": "USD", "save_action": "stay"})
    assert response.headers["Location"] == "/customers/new"


def test_new_customer_cannot_be_delayed(as_role):
    response = as_role("staff").post("/customers/new", {**CUSTOMER, "currency": "USD", "save_action": "delay"})
    assert response.status_code == 422 and "This form cannot be delayed." in response.get_data(as_text=True)


def test_customer_delay_and_save_stores_a_pending_change_shown_on_the_main_tab(app, as_role, customer):
    client = as_role("staff")
    response = client.post(f"/customers/{customer}/edit", {**CUSTOMER, "debit_limit": "250", "save_action": "delay", "delay": "3600"})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Customer, customer).debit_limit == 0
    (change,) = pending(app)
    assert json.loads(change.changes) == {"debit_limit": "250"} and change.requested_by == "staff@example.com"
    assert timedelta(minutes=59) < change.run_at - datetime.now(UTC) <= timedelta(hours=1)
    panel = client.get(f"/customers/{customer}/pending", htmx=True).get_data(as_text=True)
    assert "pending, applies at" in panel and "Debit limit: 0.00 → <strong>250.00</strong>" in panel and "Cancel" in panel and "every 5s" in panel


def test_delay_to_a_chosen_utc_time(app, as_role, customer):
    when = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0, tzinfo=None)
    as_role("staff").post(f"/customers/{customer}/edit", {**CUSTOMER, "name": "Later", "save_action": "delay",
                                                          "delay": "at", "delay_until": when.isoformat()})
    assert pending(app)[0].run_at == when.replace(tzinfo=UTC)


def test_delay_to_a_past_or_missing_time_is_refused_with_the_input_kept(app, as_role, customer):
    client = as_role("staff")
    past = client.post(f"/customers/{customer}/edit", {**CUSTOMER, "name": "Later", "save_action": "delay",
                                                       "delay": "at", "delay_until": "2001-01-01T10:00"})
    assert past.status_code == 422 and "Pick a time in the future (times are UTC)." in past.get_data(as_text=True)
    assert 'value="Later"' in past.get_data(as_text=True)
    missing = client.post(f"/customers/{customer}/edit", {**CUSTOMER, "save_action": "delay", "delay": "at"})
    assert "Pick the date and time (UTC) when the change should apply." in missing.get_data(as_text=True)
    garbage = client.post(f"/customers/{customer}/edit", {**CUSTOMER, "save_action": "delay", "delay": "at", "delay_until": "soon"})
    assert garbage.status_code == 422
    assert pending(app) == []


def test_contact_delay_and_save_shows_the_row_as_pending(app, as_role, customer):
    with app.app_context():
        contact, _ = create_contact(SYSTEM, customer, {"name": "Ana", "email": "ana@acme.example"}, password="long enough pw")
        db.session.commit()
        contact_id = contact.id
    client = as_role("staff")
    row = client.post(f"/customers/{customer}/contacts/{contact_id}",
                      {"name": "Ana", "email": "ana@acme.example", "contact_type": "Other", "phone": "42",
                       "save_action": "delay", "delay": "300"}, htmx=True)
    assert row.status_code == 200 and "pending, applies at" in row.get_data(as_text=True)
    assert row.headers["HX-Trigger"] == "pendingChanged"


def test_cancel_from_the_main_tab_and_again_is_409(app, as_role, customer):
    client = as_role("staff")
    client.post(f"/customers/{customer}/edit", {**CUSTOMER, "name": "X", "save_action": "delay", "delay": "300"})
    change_id = pending(app)[0].id
    response = client.post(f"/delay-log/{change_id}/cancel", htmx=True)
    assert response.status_code == 200 and "pending, applies at" not in response.get_data(as_text=True)
    assert pending(app)[0].status == "cancelled" and pending(app)[0].finished_by == "staff@example.com"
    assert client.post(f"/delay-log/{change_id}/cancel", htmx=True).status_code == 409
    assert client.post("/delay-log/999/cancel", htmx=True).status_code == 404


def test_readonly_cannot_cancel(as_role, app, customer):
    client = as_role("staff")
    client.post(f"/customers/{customer}/edit", {**CUSTOMER, "name": "X", "save_action": "delay", "delay": "300"})
    client.post("/logout")
    client.forget_token()
    client.login("readonly@example.com")
    assert client.post(f"/delay-log/{pending(app)[0].id}/cancel", htmx=True).status_code == 403


def test_delay_log_lists_every_status_with_the_difference(app, as_role, customer):
    client = as_role("staff")
    for name in ("One", "Two"):
        client.post(f"/customers/{customer}/edit", {**CUSTOMER, "name": name, "save_action": "delay", "delay": "300"})
    client.post(f"/delay-log/{pending(app)[0].id}/cancel", htmx=True)
    page = client.get("/delay-log").get_data(as_text=True)
    assert "cancelled" in page and "pending" in page and "Acme Telecom" in page and "<td>Name</td>" in page
    only = client.get("/delay-log?status=cancelled", htmx=True).get_data(as_text=True)
    assert only.count('<tr id="delayed-') == 1 and "<html" not in only


def test_a_typed_password_for_a_delayed_contact_is_never_shown(app, as_role, customer):
    client = as_role("staff")
    client.post(f"/customers/{customer}/contacts", {"name": "Cy", "email": "cy@acme.example", "contact_type": "Other",
                                                    "password": "typed secret 123", "save_action": "delay", "delay": "300"},
                htmx=True)
    (change,) = pending(app)
    assert change.kind == "create" and change.secret and "typed secret" not in change.changes
    page = client.get("/delay-log").get_data(as_text=True)
    assert "[set]" in page and change.secret not in page
