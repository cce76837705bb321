"""How contacts take delayed saves (panel/delayed/): edits and new contacts, registered at app start."""
import sqlalchemy as sa

from panel.actor import Actor
from panel.contacts.forms import NewContactForm
from panel.contacts.models import Contact
from panel.contacts.logins import email_taken
from panel.contacts.records import create_contact, update_contact
from panel.delayed.changes import ChangeConflict, Target
from panel.delayed.changes import register as register_target
from panel.extensions import db
from panel.forms import field_labels


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


def _names(ids: list[int]) -> dict[int, str]:
    return dict(db.session.execute(sa.select(Contact.id, Contact.name).where(Contact.id.in_(ids))).all())


def register() -> None:
    labels, choices = field_labels(NewContactForm)  # what the contact form shows, for the Delay Log
    register_target("contact", Target(model=Contact, apply_update=_update_contact, apply_create=_create_contact,
                                      names=_names, labels=labels, choices=choices))
