"""Password resets by e-mail ("I forgot my password") for staff and portal contacts, and the link that
sets a password (a reset, or a staff invitation).

A request answers the same whether the address is known or not: a link (valid one hour, single use:
panel/auth/links.py) is mailed only to a known, active account, and only while that address has had
fewer than three links this hour. Requests are also counted per address: more than ten an hour from one
address are refused with "try again in N minutes". Following the link sets the new password, ends the
person's other sessions, and is audited as the person (the password as [secret]) with the reason.
"""
from datetime import timedelta

import sqlalchemy as sa
from flask import g

from panel import actor as actors
from panel import emails
from panel.auth import links
from panel.auth.models import AuthLink, StaffUser
from panel.contacts.models import Contact
from panel.contacts.records import set_password
from panel.extensions import db
from panel.mail import outbox
from panel.passwords import hash_password

STAFF_PURPOSES = ("staff_reset", "invite")


def _lookup(email: str) -> str:
    """What an address typed is looked up and counted by: the comparison key of panel/emails.py, which the
    unique indexes hold (contact.email_key; a staff user's e-mail is the key itself), so the look-up reads
    one index entry whatever the table's size, and two spellings of one address are one account and one
    count. Text it refuses gives "", which no account has."""
    return emails.lookup_key(email) or ""


def _counted(side: str, key: str) -> str:
    """The throttle's name for an address: reset_request.email holds 254 characters, the prefix included."""
    return f"{side}:{key}"[:254]


def _mail(to: str, name: str, subject: str, what: str, url: str) -> None:
    body = (f"Hello {name},\n\nsomeone (we hope you) asked to reset your {what} password.\n\nChoose a new one "
            f"here; the link works once, within one hour:\n\n    {url}\n\nIf it was not you, ignore this message: "
            "your password stays as it is.\n")
    outbox.deliver_after_commit(outbox.queue_mail(to, subject, body, sensitive=True))


def request_staff_reset(email: str, ip: str) -> timedelta | None:
    """Mail a reset link if `email` is an active staff user's; the wait if `ip` asked too often."""
    key = _lookup(email)
    wait = links.reset_request_wait(_counted("staff", key), ip)
    if wait is not None:
        return wait
    user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == key)) if key else None
    if user is not None and user.active and links.may_mail_reset(_counted("staff", key)):
        token = links.issue("staff_reset", staff_user=user)
        _mail(user.email, user.name or user.email, "Reset your control panel password", "control panel",
              links.link_url("auth.set_password", token))
    return None


def request_portal_reset(email: str, ip: str) -> timedelta | None:
    """Mail a reset link if `email` is an active contact's; the wait if `ip` asked too often."""
    key = _lookup(email)
    wait = links.reset_request_wait(_counted("portal", key), ip)
    if wait is not None:
        return wait
    contact = db.session.scalar(sa.select(Contact).where(Contact.email_key == key)) if key else None
    if contact is not None and contact.active and links.may_mail_reset(_counted("portal", key)):
        token = links.issue("portal_reset", contact=contact)
        _mail(contact.email, contact.name, "Reset your customer portal password", "customer portal",
              links.link_url("portal.set_password", token))
    return None


def staff_purpose(token: str) -> str | None:
    """Which staff link `token` is (an open invitation or reset), or None."""
    for purpose in STAFF_PURPOSES:
        try:
            links.find(purpose, token)
            return purpose
        except links.LinkInvalid:
            continue
    return None


def set_staff_password(purpose: str, token: str, password: str) -> StaffUser:
    link = links.spend(purpose, token)
    user = db.session.get(StaffUser, link.staff_user_id)
    if user is None or not user.active:
        raise links.LinkInvalid(links.INVALID)
    _audited_as(actors.staff(user), "Password chosen through the invitation link" if purpose == "invite"
                else "Password reset through the e-mailed link")
    user.password_hash = hash_password(password)  # audited (as [secret]) by the session hooks, as the user
    db.session.flush()
    links.end_other_sessions(user)
    return user


def set_portal_password(token: str, password: str) -> Contact:
    link = links.spend("portal_reset", token)
    contact = db.session.get(Contact, link.contact_id)
    if contact is None or not contact.active:
        raise links.LinkInvalid(links.INVALID)

    _audited_as(actors.contact(contact), "Password reset through the e-mailed link")
    set_password(contact, password)
    db.session.flush()
    links.end_other_sessions(contact)
    return contact


def _audited_as(actor, comment: str) -> None:
    """Nobody is signed in while following a link: the change is recorded as the person it belongs to."""
    actors.act_as(actor)
    g.audit_comment = comment


def open_link(purpose: str, token: str) -> AuthLink | None:
    try:
        return links.find(purpose, token)
    except links.LinkInvalid:
        return None
