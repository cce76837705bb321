"""Which e-mail addresses are portal logins: one question asked by the contact forms, the delayed saves and
the e-mail verification, compared by panel/emails.py's key on both databases."""
import sqlalchemy as sa

from panel import emails
from panel.contacts.models import Contact
from panel.extensions import db


def email_taken(email: str, except_id: int | None = None) -> bool:
    """Is this address (compared by panel/emails.py's key) the login of a contact other than `except_id`?"""
    key = emails.lookup_key(email)
    if key is None:
        return False  # it cannot be stored either: the form refuses it with its own message
    statement = sa.select(Contact.id).where(Contact.email_key == key)
    if except_id is not None:
        statement = statement.where(Contact.id != except_id)
    return db.session.scalar(statement.limit(1)) is not None
