"""Delayed saves without HTTP: scheduled, applied once when due, cancelled, or kept as a conflict."""
import json
from datetime import timedelta
from decimal import Decimal

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


def soon(seconds=-1):
    return utcnow() + timedelta(seconds=seconds)


def make_contact(customer, **values):
    contact, _ = create_contact(SYSTEM, customer, {"name": "Ana", "email": "ana@acme.example", **values}, password="long enough pw")
    db.session.commit()
    return contact


def test_a_due_change_is_applied_once_and_audited_as_its_requester(app, customer):
    with app.test_request_context("/", method="POST", environ_base={"REMOTE_ADDR": "198.51.100.3"}):
        from panel import actor as actors

        contact = make_contact(customer, phone="1")
        actors.act_as(actors.on_behalf_of("staff@example.com", 7, ip="198.51.100.3"))
        change_id = changes.schedule_update(actors.current(), "contact", contact, {"phone": "2", "name": "Ana"},
                                            soon()).id
        unit_of_work.commit()
        contact_id = contact.id
    with app.app_context():
        change = db.session.get(PendingChange, change_id)
        contact = db.session.get(Contact, contact_id)
        assert json.loads(change.changes) == {"phone": "2"}  # only what differs is kept
        assert changes.apply_due() == 1
        assert changes.apply_due() == 0
        assert db.session.get(Contact, contact.id).phone == "2"
        change = db.session.get(PendingChange, change.id)
        assert change.status == "applied" and change.finished_at is not None
        entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.table_name == "contact",
                                                               AuditEntry.message == "Update")).one()
        assert entry.user_label == "staff@example.com" and entry.staff_user_id == 7
        assert entry.comment.startswith(f"Delayed save #{change.id}, asked ") and "applied" in entry.comment


def test_a_change_not_yet_due_waits(app, customer):
    with app.app_context():
        contact = make_contact(customer)
        changes.schedule_update(SYSTEM, "contact", contact, {"phone": "9"}, soon(3600))
        unit_of_work.commit()
        assert changes.apply_due() == 0
        assert db.session.get(Contact, contact.id).phone == ""


def test_a_cancelled_change_is_never_applied(app, customer):
    with app.app_context():
        contact = make_contact(customer)
        change = changes.schedule_update(SYSTEM, "contact", contact, {"phone": "9"}, soon())
        unit_of_work.commit()
        assert changes.cancel(SYSTEM, change.id).status == "cancelled"
        unit_of_work.commit()
        assert changes.cancel(SYSTEM, change.id) is None
        assert changes.apply_due() == 0
        assert db.session.get(Contact, contact.id).phone == ""


def test_a_contact_changed_meanwhile_makes_a_conflict_and_nothing_is_lost(app, customer):
    with app.app_context():
        contact = make_contact(customer, phone="1")
        change = changes.schedule_update(SYSTEM, "contact", contact, {"phone": "2"}, soon())
        unit_of_work.commit()
        contact.phone = "3"  # someone else, in between
        db.session.commit()
        changes.apply_due()
        change = db.session.get(PendingChange, change.id)
        assert change.status == "conflict" and "phone" in change.outcome
        assert json.loads(change.changes) == {"phone": "2"}
        assert db.session.get(Contact, contact.id).phone == "3"


def test_a_change_to_another_field_is_not_a_conflict(app, customer):
    with app.app_context():
        contact = make_contact(customer, phone="1")
        changes.schedule_update(SYSTEM, "contact", contact, {"phone": "2"}, soon())
        unit_of_work.commit()
        contact.mobile = "7"
        db.session.commit()
        changes.apply_due()
        assert (db.session.get(Contact, contact.id).phone, db.session.get(Contact, contact.id).mobile) == ("2", "7")


def test_a_deleted_contact_makes_a_conflict(app, customer):
    with app.app_context():
        contact = make_contact(customer)
        change = changes.schedule_update(SYSTEM, "contact", contact, {"phone": "2"}, soon())
        unit_of_work.commit()
        db.session.delete(contact)
        db.session.commit()
        changes.apply_due()
        assert db.session.get(PendingChange, change.id).status == "conflict"


def test_a_delayed_new_contact_appears_when_due_with_its_welcome_mail(app, customer):
    from panel.mail.models import MailMessage

    with app.app_context():
        change = changes.schedule_create(SYSTEM, "contact", customer, {"name": "Cy", "email": "cy@acme.example",
                                                               "contact_type": "Billing", "_auto_password": True}, soon(3600))
        unit_of_work.commit()
        assert db.session.scalar(sa.select(Contact).where(Contact.email == "cy@acme.example")) is None
        change.run_at = soon()
        db.session.commit()
        changes.apply_due()
        contact = db.session.scalar(sa.select(Contact).where(Contact.email == "cy@acme.example"))
        assert contact.contact_type == "Billing" and contact.must_change_password
        assert db.session.get(PendingChange, change.id).row_id == contact.id
        assert db.session.scalar(sa.select(MailMessage.to_addr)) == "cy@acme.example"


def test_a_delayed_new_contact_whose_email_was_taken_meanwhile_is_a_conflict(app, customer):
    with app.app_context():
        change = changes.schedule_create(SYSTEM, "contact", customer, {"name": "Cy", "email": "cy@acme.example"}, soon())
        unit_of_work.commit()
        make_contact(customer, email="CY@acme.example")
        changes.apply_due()
        assert db.session.get(PendingChange, change.id).status == "conflict"


def test_debit_limit_raised_now_and_set_back_later(app, customer):
    with app.app_context():
        c = db.session.get(Customer, customer)
        c.debit_limit = Decimal(500)
        db.session.commit()
        changes.schedule_update(SYSTEM, "customer", c, {"debit_limit": Decimal(0)}, soon())
        unit_of_work.commit()
        changes.apply_due()
        assert db.session.get(Customer, customer).debit_limit == Decimal(0)


def test_worker_once_applies_due_changes(app, customer):
    with app.app_context():
        contact_id = make_contact(customer).id
        changes.schedule_update(SYSTEM, "contact", db.session.get(Contact, contact_id), {"phone": "5"}, soon())
        unit_of_work.commit()
        db.session.remove()
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0 and "delayed saves: 1 applied" in result.output
    with app.app_context():
        assert db.session.get(Contact, contact_id).phone == "5"
