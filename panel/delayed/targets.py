"""What delayed saves can change: contacts (edits and new ones) and customers (edits)."""
from panel.actor import Actor
from panel.contacts.models import Contact
from panel.contacts.records import create_contact, email_taken, update_contact
from panel.customers.accounts import update_customer
from panel.customers.models import Customer
from panel.delayed.changes import ChangeConflict, Target, register


def _update_contact(actor: Actor, contact: Contact, values: dict) -> None:
    if "email" in values and email_taken(values["email"], contact.id):
        raise ChangeConflict(f"The e-mail {values['email']} became the login of another contact meanwhile.")
    update_contact(actor, contact, values)


def _create_contact(actor: Actor, change, values: dict) -> Contact:
    if email_taken(values["email"]):
        raise ChangeConflict(f"The e-mail {values['email']} became the login of another contact meanwhile.")
    auto = values.pop("_auto_password", True)
    contact, _message = create_contact(actor, change.customer_id, values,
                                       password_hash=None if auto else change.secret)
    return contact


def register_all() -> None:
    register("contact", Target(model=Contact, apply_update=_update_contact, apply_create=_create_contact))
    register("customer", Target(model=Customer, apply_update=update_customer))
