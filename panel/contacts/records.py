"""Contact rules: unique logins, notes without passwords, temporary passwords and their e-mails."""
import logging
import re
from datetime import timedelta

import sqlalchemy as sa

from panel.contacts.models import Contact
from panel.extensions import db
from panel.passwords import generate_password, hash_password
from panel.types import utcnow

EDITABLE = ("name", "email", "contact_type", "phone", "mobile", "public_notes", "private_notes",
            "mobile_verified", "email_verified", "ip_allowlist")
TEMPORARY_PASSWORD_HOURS = 24

# "password: x", "pwd=x", "pin 1234", "pass 1234", "password is hunter2"...
_SEPARATED = re.compile(r"\b(pass(word|wd|code|phrase)?|pwd|pw|pin)\s*[:=]\s*\S+", re.IGNORECASE)
_WITH_DIGITS = re.compile(r"\b(pass(word|wd|code|phrase)?|pwd|pin)\s+(is\s+)?\S*\d\S*", re.IGNORECASE)


def looks_like_password(text: str) -> bool:
    """Notes must not keep passwords; this spots the usual ways people write one down."""
    return bool(text) and bool(_SEPARATED.search(text) or _WITH_DIGITS.search(text))


def email_taken(email: str, except_id: int | None = None) -> bool:
    statement = sa.select(Contact.id).where(sa.func.lower(Contact.email) == email.strip().lower())
    if except_id is not None:
        statement = statement.where(Contact.id != except_id)
    return db.session.scalar(statement.limit(1)) is not None


def set_temporary_password(contact: Contact) -> str:
    """A random password that works once, for 24 hours, to choose a new one. Returned for the e-mail only."""
    password = generate_password()
    contact.password_hash = hash_password(password)
    contact.must_change_password = True
    contact.password_expires_at = utcnow() + timedelta(hours=TEMPORARY_PASSWORD_HOURS)
    return password


def set_password(contact: Contact, password: str) -> None:
    contact.password_hash = hash_password(password)
    contact.must_change_password = False
    contact.password_expires_at = None


def _queue_password_mail(contact: Contact, password: str, welcome: bool):
    from panel.mail.outbox import queue_mail

    if welcome:
        subject = "Your customer portal account"
        opening = f"Hello {contact.name},\n\nan account for the customer portal was created for you."
    else:
        subject = "Your customer portal password was reset"
        opening = f"Hello {contact.name},\n\nyour customer portal password was reset."
    body = (f"{opening}\n\nSign in with your e-mail address {contact.email} and this temporary password:\n\n"
            f"    {password}\n\nIt works once, within {TEMPORARY_PASSWORD_HOURS} hours, and you will be asked to "
            "choose your own password when you sign in.\n")
    return queue_mail(contact.email, subject, body, sensitive=True)


def create_contact(customer_id: int, values: dict, password: str | None = None, password_hash: str | None = None):
    """Add a contact (not committed); without a password one is generated and its welcome e-mail is
    queued in the same transaction. Returns the contact and the queued message, if any."""
    contact = Contact(customer_id=customer_id, **{k: values[k] for k in EDITABLE if k in values})
    message = None
    if password_hash:
        contact.password_hash = password_hash
    elif password:
        set_password(contact, password)
    else:
        message = _queue_password_mail(contact, set_temporary_password(contact), welcome=True)
    db.session.add(contact)
    return contact, message


def update_contact(contact: Contact, values: dict) -> None:
    for key in EDITABLE:
        if key in values:
            setattr(contact, key, values[key])


def reset_password(contact: Contact, typed: str | None = None):
    """Typed by staff, or generated and e-mailed (not committed); the audit entry shows that the
    password changed, never what to. Returns the queued message, if any."""
    if typed:
        set_password(contact, typed)
        return None
    return _queue_password_mail(contact, set_temporary_password(contact), welcome=False)


def send_now(message) -> str:
    """Try the queued message at once, after the commit; the worker retries it if this fails."""
    if message is None:
        return ""
    from panel.mail.outbox import deliver

    try:
        report = deliver([message.id])
    except Exception:  # the change is committed; the worker will deliver the queued message
        logging.getLogger(__name__).exception("immediate delivery of mail %s failed", message.id)
        report = None
    if report is not None and report.sent:
        return f"An e-mail with a temporary password was sent to {message.to_addr}."
    return (f"The e-mail to {message.to_addr} could not be sent yet; it waits in the mail queue "
            "and will be retried automatically.")
