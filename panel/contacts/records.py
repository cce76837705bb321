"""Contact rules: unique logins, notes without passwords, temporary passwords and their e-mails."""
import re
from datetime import timedelta

import sqlalchemy as sa

from panel import access, emails
from panel.actor import Actor
from panel.contacts.models import Contact
from panel.contacts.recipients import recipients_of_own_mail
from panel.contacts.verification import queue_email_link
from panel.customers.models import Customer
from panel.extensions import db
from panel.mail import outbox
from panel.passwords import generate_password, hash_password
from panel.types import utcnow

EDITABLE = ("name", "email", "contact_type", "phone", "mobile", "public_notes", "private_notes",
            "mobile_verified", "email_verified", "ip_allowlist")
TEMPORARY_PASSWORD_HOURS = 24

# How people write a password down, tried against a corpus of examples and ordinary notes
# (tests/contacts/test_notes_and_passwords.py). A keyword: password, pass, passwd, pwd, pw, p/w, PIN...
_KEY = r"\b(?:pass(?:word|wd|code|phrase)?|pwd|pw|p/w|pin(?:\s*code)?|passwort)\b"
# "password: x", "pwd=x", "PW:Hunter2024", "password -> x": anything after an explicit separator.
_SEPARATED = re.compile(_KEY + r"\s*(?::|=|->|=>|→)\s*\S+", re.IGNORECASE)
# "pw Hunter2024", "the password is s3cret", "pwd - hunter2", "password was changed to Hunter2024": a word
# with a digit after the keyword and its connecting words. Short numbers ("reset the password 3 times",
# "pin 2 of the patch panel") are not secrets.
_WITH_DIGITS = re.compile(
    _KEY + r"(?:\s+(?:is|was|are|now|set\s+to|changed\s+to|reset\s+to)\b|\s*[-–—])*\s+(?P<secret>\S*\d\S*)",
    re.IGNORECASE)
# "login creds: carol / Hunter2024", "credentials: admin/Admin123", "creds are carol:Hunter2024": a user name
# (with a letter; not a URL) and a secret with a digit, after a login keyword.
_CREDENTIALS = re.compile(
    r"\b(?:log-?in|creds|credentials|user(?:name)?|u/n|account)\b"
    r"(?:\s+(?:creds|credentials|details|is|are))?\s*[:=\-]?\s*"
    r"(?!https?:)(?P<user>[^\s/:]*[^\W\d_][^\s/:]*)(?:\s*/\s*|:)(?P<secret>\S*\d\S*)", re.IGNORECASE)
_SHORTEST_SECRET = 4


def looks_like_password(text: str) -> bool:
    """Notes must not keep passwords; this spots the usual ways people write one down."""
    if not text:
        return False
    if _SEPARATED.search(text) or _CREDENTIALS.search(text):
        return True
    return any(len(m.group("secret").rstrip(".,;!?)")) >= _SHORTEST_SECRET for m in _WITH_DIGITS.finditer(text))


def set_temporary_password(contact: Contact, password: str | None = None, password_hash: str | None = None) -> str | None:
    """A password set by anyone but the contact (generated, or typed by staff): it works for 24 hours, and
    only to choose the contact's own. Returns a generated password, for the e-mail only."""
    if password is None and password_hash is None:
        password = generate_password()
    drop_pending_password(contact)
    contact.password_hash = password_hash or hash_password(password)
    contact.must_change_password = True
    contact.password_expires_at = utcnow() + timedelta(hours=TEMPORARY_PASSWORD_HOURS)
    return password


def set_password(contact: Contact, password: str) -> None:
    """The contact's own choice (the portal's Change Password): permanent."""
    drop_pending_password(contact)  # a password chosen now wins over a reset still waiting for its e-mail
    contact.password_hash = hash_password(password)
    contact.must_change_password = False
    contact.password_expires_at = None


def _queue_password_mail(contact: Contact, password: str, welcome: bool):
    """Queued with the change, and sent once it has committed (the worker retries what fails)."""
    if welcome:
        subject = "Your customer portal account"
        opening = f"Hello {contact.name},\n\nan account for the customer portal was created for you."
    else:
        subject = "Your customer portal password was reset"
        opening = f"Hello {contact.name},\n\nyour customer portal password was reset."
    body = (f"{opening}\n\nSign in with your e-mail address {contact.email} and this temporary password:\n\n"
            f"    {password}\n\nIt works once, within {TEMPORARY_PASSWORD_HOURS} hours, and you will be asked to "
            "choose your own password when you sign in.\n")
    (recipient,) = recipients_of_own_mail(contact)  # welcome and password mail: the contact themselves
    message = outbox.queue_mail(recipient.email, subject, body, sensitive=True)
    outbox.deliver_after_commit(message)
    return message


def create_contact(actor: Actor, customer_id: int, values: dict, password: str | None = None,
                   password_hash: str | None = None):
    """Add a contact to a customer `actor` may change (else 404/403); without a password one is generated
    and its welcome e-mail is queued in the same transaction, to be sent once it commits. Never commits.
    Returns the contact and the queued message, if any."""
    access.fetch(actor, Customer, customer_id, write=True, message="There is no such customer.")
    contact = Contact(customer_id=customer_id, **{k: values[k] for k in EDITABLE if k in values})
    message = None
    if password_hash or password:
        # Typed by staff (now, or scheduled: its hash): temporary like a generated one, so staff never keep
        # knowing a working portal password.
        set_temporary_password(contact, password=password, password_hash=password_hash)
    else:
        message = _queue_password_mail(contact, set_temporary_password(contact), welcome=True)
    db.session.add(contact)
    return contact, message


def update_contact(actor: Actor, contact: Contact, values: dict) -> str | None:
    """Change the contact's fields; a new login e-mail goes through change_login_email. Returns what to tell
    the user about the e-mail (a link sent), if anything."""
    access.require(actor, contact, write=True)
    for key in EDITABLE:
        if key in values and key != "email":
            setattr(contact, key, values[key])
    return change_login_email(actor, contact, values["email"]) if "email" in values else None


def change_login_email(actor: Actor, contact: Contact, new_email: str) -> str | None:
    """The one rule for a contact's login e-mail (not committed):

    - the same address (by panel/emails.py's key; a change of case or width only): kept as typed, nothing else;
    - in Portal Login: refused (403), whoever's e-mail it is;
    - in the portal (the contact themselves, or an Admin contact for another contact): the login does not change
      yet; a link goes to the new address (limited like every verification mail) and the change happens when
      it is followed (portal.verify_email_link), which also marks the e-mail verified;
    - staff in the control panel: at once, and "e-mail verified" is cleared (nobody has proved the new address).
    Returns the message for the user when a link was sent. Raises SendLimited (panel/contacts/verification.py)."""
    if not (actor.in_portal and actor.contact.id == contact.id):  # one's own profile is always one's own
        access.require(actor, contact, write=True)
    if emails.same(new_email, contact.email):
        contact.email = new_email
        return None
    if actor.impersonated:
        from werkzeug.exceptions import Forbidden

        raise Forbidden("In Portal Login the contact's e-mail cannot be changed.")
    if actor.in_portal:

        contact.pending_email = emails.normalize(new_email)
        message = queue_email_link(contact, contact.pending_email)
        outbox.deliver_after_commit(message)
        return (f"We sent a link to {contact.pending_email}: the login e-mail changes when it is followed "
                "(within 24 hours).")
    contact.email = new_email
    contact.email_verified = False
    contact.pending_email = None
    return None


def reset_password(actor: Actor, contact: Contact, typed: str | None = None):
    """Typed by staff: the password now, but temporary (the contact chooses their own at the first sign-in,
    and it expires unused after 24 hours). Generated: e-mailed, and it becomes the password only once the
    e-mail is delivered (password_mail_delivered, the outbox's hook for a sensitive message sent, run in
    the transaction that marks it sent); until then the old password keeps working, so a mail server that
    is down never leaves the contact with a password nobody received. Not committed; the audit entries show that the password
    changed, never what to. Returns the queued message, if any."""
    access.require(actor, contact, write=True)
    if typed:
        set_temporary_password(contact, password=typed)
        return None
    drop_pending_password(contact)  # an earlier reset still waiting: its e-mail is withdrawn
    password = generate_password()
    message = _queue_password_mail(contact, password, welcome=False)
    db.session.flush()  # the message's id
    contact.pending_password_hash = hash_password(password)
    contact.pending_password_mail_id = message.id
    return message


def drop_pending_password(contact: Contact) -> None:
    """Forget a reset password still waiting for its e-mail, and withdraw that e-mail if it is not being sent
    at this very moment (if it is, it arrives but its password never takes effect: password_mail_delivered
    finds it no longer pending). Not committed.

    Locks: the contact's row first (read afresh, so a reset committed meanwhile is seen), then the message
    without waiting (SKIP LOCKED). The outbox holds the message and then waits for the contact; as this
    side never waits for the message, the two cannot deadlock."""
    if contact.id is None:
        return
    db.session.refresh(contact, ["pending_password_hash", "pending_password_mail_id"], with_for_update=True)
    if contact.pending_password_mail_id is None:
        return
    outbox.withdraw(contact.pending_password_mail_id, "Withdrawn: the contact's password was changed again before it was sent.")
    contact.pending_password_hash = None
    contact.pending_password_mail_id = None


def register_mail_hooks() -> None:
    """At app start: the outbox tells contacts when a sensitive message went out or failed for good."""
    outbox.on_sensitive_sent(password_mail_delivered)
    outbox.on_sensitive_abandoned(password_mail_abandoned)


def password_mail_delivered(message_id: int) -> None:
    """The outbox's hook (register_mail_hooks) for a sensitive message sent, in the transaction that marks
    it sent: if it carries a reset password still pending, that password becomes the contact's, valid for
    24 hours from now."""
    contact = _pending_for(message_id)
    if contact is None:
        return
    contact.password_hash = contact.pending_password_hash
    contact.must_change_password = True
    contact.password_expires_at = utcnow() + timedelta(hours=TEMPORARY_PASSWORD_HOURS)
    contact.pending_password_hash = None
    contact.pending_password_mail_id = None


def password_mail_abandoned(message_id: int) -> None:
    """The outbox's hook for a sensitive message that failed for good: a reset password it carried is dropped, and the
    contact keeps the old one."""
    contact = _pending_for(message_id)
    if contact is not None:
        contact.pending_password_hash = None
        contact.pending_password_mail_id = None


def _pending_for(message_id: int) -> Contact | None:
    return db.session.scalars(
        sa.select(Contact).where(Contact.pending_password_mail_id == message_id)
        .with_for_update().execution_options(populate_existing=True)
    ).first()


def send_now(message) -> str:
    """End the unit of work (the change and its message commit, then the message is sent) and say what
    happened; the worker retries a message that could not go yet."""
    if message is None:
        return ""
    if outbox.delivered(message):
        return f"An e-mail with a temporary password was sent to {message.to_addr}."
    return (f"The e-mail to {message.to_addr} could not be sent yet; it waits in the mail queue "
            "and will be retried automatically.")


def send_reset_now(message) -> str:
    """After reset_password(): end the unit of work, and say whether the e-mail went (and so the password changed)."""
    if message is None:
        return "Password changed."
    if outbox.delivered(message):
        return f"Password changed. An e-mail with a temporary password was sent to {message.to_addr}."
    return ("The e-mail could not be sent yet; it will be retried. "
            "The contact's password changes when it is delivered.")
