"""Delayed changes people can read: field labels and values formatted as their type (no "0.0000 → 0.00" for a
value that did not change), a conflict dismissed (audited), and the editor of a record with a waiting change
saying so beside the form."""
import json
from datetime import timedelta

import sqlalchemy as sa

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.audit.models import AuditEntry
from panel.contacts.models import Contact
from panel.contacts.records import create_contact
from panel.customers.models import Customer
from panel.delayed import changes
from panel.delayed.models import PendingChange
from panel.extensions import db
from panel.types import utcnow
from tests.delayed.test_delay_routes import CUSTOMER


def all_changes(app):
    with app.app_context():
        return db.session.scalars(sa.select(PendingChange).order_by(PendingChange.id)).all()


def make_conflict(app, customer) -> int:
    """A delayed phone change of a contact whose phone someone else changed meanwhile."""
    with app.app_context():
        contact, _ = create_contact(SYSTEM, customer, {"name": "Carol Jones", "email": "carol@acme.example", "phone": "1"},
                                    password="long enough pw")
        db.session.commit()
        change = changes.schedule_update(SYSTEM, "contact", contact, {"phone": "2"}, utcnow() - timedelta(seconds=1))
        unit_of_work.commit()
        contact.phone = "3"
        db.session.commit()
        changes.apply_due()
        assert db.session.get(PendingChange, change.id).status == "conflict"
        return change.id


def test_an_unchanged_amount_typed_with_fewer_places_is_not_a_change(app, as_role, customer):
    # The customer's debit limit is stored as 0.0000; the form sends 0 (it shows 0.00): not a change.
    client = as_role("staff")
    client.post(f"/customers/{customer}/edit", {**CUSTOMER, "debit_limit": "0.00", "channel_limit": "40",
                                               "save_action": "delay", "delay": "300"})
    (change,) = all_changes(app)
    assert json.loads(change.changes) == {"channel_limit": 40}


def test_an_old_change_holding_an_equal_amount_shows_only_what_changed(app, customer):
    with app.app_context():
        with unit_of_work.unit():
            db.session.add(PendingChange(kind="update", table_name="customer", row_id=customer, customer_id=customer,
                                         changes=json.dumps({"debit_limit": "0.00", "channel_limit": 40}),
                                         base=json.dumps({"debit_limit": "0.0000", "channel_limit": 30}),
                                         run_at=utcnow() + timedelta(hours=1), requested_by="staff@example.com"))
        (change,) = db.session.scalars(sa.select(PendingChange)).all()
        assert [(c.label, c.before, c.after) for c in changes.describe(change)] == [("Channel limit", "30", "40")]


def test_the_pending_list_and_the_delay_log_show_labels_and_formatted_values(as_role, customer):
    client = as_role("staff")
    client.post(f"/customers/{customer}/edit", {**CUSTOMER, "debit_limit": "250.5", "invoice_schedule": "monthly",
                                               "require_two_factor": "y", "save_action": "delay", "delay": "300"})
    panel = client.get(f"/customers/{customer}/pending", htmx=True).get_data(as_text=True)
    for text in ("Debit limit: 0.00 → <strong>250.50</strong>", "Invoice Schedule: None → <strong>Monthly</strong>",
                 "Portal contacts must use two-factor sign-in: No → <strong>Yes</strong>"):
        assert text in panel
    assert "debit_limit" not in panel and "0.0000" not in panel
    log = client.get("/delay-log").get_data(as_text=True)
    assert "<td>Debit limit</td><td>0.00</td><td>250.50</td>" in log


def test_a_conflict_is_dismissed_audited_and_kept_in_the_delay_log(app, as_role, customer):
    change_id = make_conflict(app, customer)
    client = as_role("staff")
    before = client.get(f"/customers/{customer}/pending", htmx=True).get_data(as_text=True)
    assert "conflict, not applied" in before and f"/delay-log/{change_id}/dismiss" in before
    response = client.post(f"/delay-log/{change_id}/dismiss", htmx=True)
    assert response.status_code == 200 and "conflict, not applied" not in response.get_data(as_text=True)
    with app.app_context():
        change = db.session.get(PendingChange, change_id)
        assert change.status == "conflict" and change.dismissed_by == "staff@example.com" and change.dismissed_at
        entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.table_name == "pending_change",
                                                               AuditEntry.row_id == str(change_id))
                                   .order_by(AuditEntry.id.desc())).first()
        assert entry.user_label == "staff@example.com" and "dismissed_by" in json.loads(entry.data)
    log = client.get("/delay-log?status=conflict").get_data(as_text=True)
    assert f'id="delayed-{change_id}"' in log and "Dismissed by staff@example.com" in log
    assert f"/delay-log/{change_id}/dismiss" not in log
    assert client.post(f"/delay-log/{change_id}/dismiss", htmx=True).status_code == 409


def test_only_a_conflict_may_be_dismissed_and_not_by_readonly_staff(app, as_role, client, customer):
    change_id = make_conflict(app, customer)
    staff = as_role("staff")
    staff.post(f"/customers/{customer}/edit", {**CUSTOMER, "name": "Later", "save_action": "delay", "delay": "300"})
    waiting = [c.id for c in all_changes(app) if c.status == "pending"][0]
    assert staff.post(f"/delay-log/{waiting}/dismiss", htmx=True).status_code == 409
    assert staff.post("/delay-log/9999/dismiss", htmx=True).status_code == 404
    staff.post("/logout")
    client.forget_token()
    client.login("readonly@example.com")
    assert client.post(f"/delay-log/{change_id}/dismiss", htmx=True).status_code == 403
    with app.app_context():
        assert db.session.get(PendingChange, change_id).dismissed_at is None


def test_the_editors_say_a_change_is_scheduled(app, as_role, customer):
    client = as_role("staff")
    client.post(f"/customers/{customer}/edit", {**CUSTOMER, "channel_limit": "45", "save_action": "delay", "delay": "3600"})
    (change,) = all_changes(app)
    when = change.run_at
    shown = f"{when:%H:%M} UTC" if when.date() == utcnow().date() else f"{when:%Y-%m-%d %H:%M} UTC"
    page = client.get(f"/customers/{customer}/edit").get_data(as_text=True)
    assert f"A change to Channel limit is scheduled for {shown}." in page
    with app.app_context():
        contact, _ = create_contact(SYSTEM, customer, {"name": "Ana", "email": "ana@acme.example"}, password="long enough pw")
        db.session.commit()
        contact_id = contact.id
    editor = client.get(f"/customers/{customer}/contacts/{contact_id}/edit", htmx=True).get_data(as_text=True)
    assert 'data-testid="scheduled-changes"' not in editor
    client.post(f"/customers/{customer}/contacts/{contact_id}",
                {"name": "Ana", "email": "ana@acme.example", "contact_type": "Other", "phone": "42",
                 "save_action": "delay", "delay": "300"}, htmx=True)
    editor = client.get(f"/customers/{customer}/contacts/{contact_id}/edit", htmx=True).get_data(as_text=True)
    assert "A change to Phone is scheduled for" in editor
    with app.app_context():
        assert db.session.get(Contact, contact_id).phone != "42" and db.session.get(Customer, customer).channel_limit == 30
