"""Verifying a contact's e-mail (a signed, expiring link) and mobile (a 6-digit code by SMS).

Nothing here commits: the changes go with the request's unit of work, and the SMS leaves after its
commit (a code that was never stored is never sent)."""
import math
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from panel import emails, unit_of_work
from panel.contacts.models import Contact, VerificationSend
from panel.contacts.logins import email_taken
from panel.extensions import db
from panel.mail.outbox import queue_mail
from panel.passwords import check_password, hash_password
from panel.sms import send_sms
from panel.types import utcnow

EMAIL_LINK_HOURS = 24
CODE_MINUTES = 10
CODE_ATTEMPTS = 5


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="portal-email-verification")


class SendLimited(Exception):
    """Too many codes or links sent lately; str() is the message for the page ("try again in N minutes")."""


def allow_send(contact: Contact, kind: str, destination: str) -> None:
    """Count one SMS code or verification mail to `destination` for `contact`, or raise SendLimited if
    SEND_LIMIT_PER_CONTACT sends for the contact, or SEND_LIMIT_PER_DESTINATION to the destination (whoever
    asked), were made within SEND_LIMIT_WINDOW. Recorded in the caller's transaction (a refused request
    sends nothing, so it records nothing)."""
    cfg = current_app.config
    window = cfg["SEND_LIMIT_WINDOW"]
    now = utcnow()
    waits = []
    for column, value, limit in ((VerificationSend.contact_id, contact.id, cfg["SEND_LIMIT_PER_CONTACT"]),
                                 (VerificationSend.destination, destination, cfg["SEND_LIMIT_PER_DESTINATION"])):
        recent = db.session.scalars(
            sa.select(VerificationSend.at).where(column == value, VerificationSend.at > now - window)
            .order_by(VerificationSend.at.desc()).limit(limit)).all()
        if len(recent) >= limit:
            waits.append(recent[-1] + window - now)
    if waits:
        minutes = max(1, math.ceil(max(waits).total_seconds() / 60))
        what = "codes" if kind == "sms" else "e-mails"
        raise SendLimited(f"Too many {what} were sent lately. Try again in {minutes} minute(s).")
    db.session.add(VerificationSend(kind=kind, contact_id=contact.id, destination=destination, at=now))


def queue_email_link(contact: Contact, address: str):
    """Queue (in the caller's transaction) a link that proves the contact reads `address`; raises SendLimited
    when too many were sent lately."""
    allow_send(contact, "email", emails.lookup_key(address) or address)
    token = _serializer().dumps({"c": contact.id, "e": address})
    link = url_for("portal.verify_email_link", token=token, _external=True)
    body = (f"Hello {contact.name},\n\nfollow this link within {EMAIL_LINK_HOURS} hours to confirm {address} "
            f"for your customer portal account:\n\n{link}\n\nIf you did not ask for this, ignore this message.\n")
    return queue_mail(address, "Confirm your e-mail address", body)


class LinkError(ValueError):
    pass


def confirm_email_link(token: str) -> Contact:
    """Apply the address the link was made for; raises LinkError with a message for the page."""
    try:
        data = _serializer().loads(token, max_age=EMAIL_LINK_HOURS * 3600)
    except SignatureExpired:
        raise LinkError("This link has expired. Ask for a new one from your profile.") from None
    except BadSignature:
        raise LinkError("This link is not valid.") from None
    contact = db.session.get(Contact, data.get("c"))
    address = data.get("e", "")
    if contact is None or not (emails.same(address, contact.email) or emails.same(address, contact.pending_email)):
        raise LinkError("This link is no longer valid for your account.")
    if not emails.same(address, contact.email):
        if email_taken(address, contact.id):
            raise LinkError("That e-mail is now used by another account.")
        contact.email = address
    contact.pending_email = None
    contact.email_verified = True
    db.session.flush()
    return contact


def send_mobile_code(contact: Contact) -> None:
    """Send a new code (raises SendLimited when too many were sent lately). A new code does not give new tries:
    the wrong tries count until a code is right or the last one was sent longer than SEND_LIMIT_WINDOW ago."""
    allow_send(contact, "sms", "".join(ch for ch in contact.mobile if ch.isdigit() or ch == "+"))
    code = f"{secrets.randbelow(1_000_000):06d}"
    previous_sent = (contact.mobile_code_expires_at - timedelta(minutes=CODE_MINUTES)
                     if contact.mobile_code_expires_at else None)
    if previous_sent is None or previous_sent < utcnow() - current_app.config["SEND_LIMIT_WINDOW"]:
        contact.mobile_code_attempts = 0
    contact.mobile_code_hash = hash_password(code)
    contact.mobile_code_expires_at = utcnow() + timedelta(minutes=CODE_MINUTES)
    number, text = contact.mobile, f"Your customer portal code is {code}. It expires in {CODE_MINUTES} minutes."
    unit_of_work.after_commit(lambda: send_sms(number, text))


def check_mobile_code(contact: Contact, code: str) -> str | None:
    """None when the code is right (the mobile is then verified), else the message to show."""
    if not contact.mobile_code_hash or contact.mobile_code_expires_at is None or contact.mobile_code_expires_at < utcnow():
        return "No valid code: send a new one."
    if contact.mobile_code_attempts >= CODE_ATTEMPTS:
        return "Too many wrong codes. Try again later with a new code."
    contact.mobile_code_attempts += 1
    if not check_password((code or "").strip(), contact.mobile_code_hash):
        return "That code is not right."
    contact.mobile_verified = True
    contact.mobile_code_attempts = 0
    contact.mobile_code_hash = None
    contact.mobile_code_expires_at = None
    return None
