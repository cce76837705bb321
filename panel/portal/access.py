"""Who is looking at the portal: a contact signed in themself, or staff in Portal Login as a contact."""
import hashlib
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import session
from flask_login import current_user

from panel.contacts.models import Contact
from panel.customers.models import Customer
from panel.extensions import db
from panel.portal.models import AccessEvent, PortalLogin
from panel.types import utcnow

PORTAL_LOGIN_MINUTES = 30


class PortalLoginRefused(Exception):
    """Portal Login is not possible; the message says why."""


@dataclass
class PortalIdentity:
    contact: Contact
    staff: object | None = None  # the staff user in Portal Login
    portal_login: PortalLogin | None = None

    @property
    def impersonated(self) -> bool:
        return self.staff is not None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _password_key(contact: Contact) -> str:
    # A portal session ends when the password it was opened with changes.
    return hashlib.sha256((contact.password_hash or "").encode()).hexdigest()[:16]


def renew_session_id() -> None:
    """A new session id (and so a new CSRF token) whenever who-is-who changes."""
    session["sid"] = secrets.token_urlsafe(16)
    session.pop("csrf_token", None)


def remember_contact(contact: Contact) -> None:
    renew_session_id()
    session["portal_contact"] = {"id": contact.id, "key": _password_key(contact)}


def forget_contact() -> None:
    session.pop("portal_contact", None)
    renew_session_id()


def ip_allowed(contact: Contact, ip: str) -> bool:
    entries = [line.strip() for line in (contact.ip_allowlist or "").splitlines() if line.strip()]
    if not entries:
        return True
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(entry, strict=False) for entry in entries)


def refuse_sign_in(contact: Contact, ip: str, reason: str) -> None:
    db.session.add(AccessEvent(kind="portal sign-in refused", contact_id=contact.id, customer_id=contact.customer_id,
                               ip=ip, detail=f"{contact.email}: {reason}"))
    db.session.commit()


def current_identity() -> PortalIdentity | None:
    token = session.get("portal_login")
    if token:
        login = db.session.scalar(sa.select(PortalLogin).where(PortalLogin.token_digest == _digest(token)))
        staff_ok = login is not None and current_user.is_authenticated and current_user.id == login.staff_user_id
        if staff_ok and login.ended_at is None and login.expires_at > utcnow():
            contact = db.session.get(Contact, login.contact_id)
            if contact is not None:
                return PortalIdentity(contact=contact, staff=current_user._get_current_object(), portal_login=login)
        if login is not None and login.ended_at is None and login.expires_at <= utcnow():
            end_portal_login(login, "expired after 30 minutes")
        session.pop("portal_login", None)
    own = session.get("portal_contact")
    if own:
        contact = db.session.get(Contact, own.get("id"))
        if contact is not None and contact.active and contact.password_hash and own.get("key") == _password_key(contact):
            return PortalIdentity(contact=contact)
        session.pop("portal_contact", None)
    return None


def start_portal_login(staff, contact: Contact, ip: str | None) -> PortalLogin:
    """Staff sees the portal as `contact` for at most 30 minutes; refused if it cannot be done."""
    if session.get("portal_login") and current_identity() is not None and current_identity().impersonated:
        raise PortalLoginRefused("A Portal Login is already open in this browser: return from it first.")
    if not contact.active:
        raise PortalLoginRefused("This contact is deactivated and cannot be signed in as.")
    customer = db.session.get(Customer, contact.customer_id)
    if customer.status == "Inactive":
        raise PortalLoginRefused("The customer is Inactive: its contacts cannot be signed in as.")
    token = secrets.token_urlsafe(32)
    now = utcnow()
    login = PortalLogin(token_digest=_digest(token), staff_user_id=staff.id, staff_email=staff.email,
                        contact_id=contact.id, contact_email=contact.email, customer_id=contact.customer_id,
                        started_at=now, expires_at=now + timedelta(minutes=PORTAL_LOGIN_MINUTES), ip=ip)
    from flask import g

    g.audit_comment = f"Portal Login as {contact.name} <{contact.email}> by {staff.email}"
    db.session.add(login)
    db.session.commit()
    renew_session_id()
    session["portal_login"] = token
    return login


def end_portal_login(login: PortalLogin, reason: str) -> None:
    from flask import g

    g.audit_comment = f"Portal Login as {login.contact_email} by {login.staff_email} ended: {reason}"
    login.ended_at, login.end_reason = utcnow(), reason
    db.session.commit()
    session.pop("portal_login", None)
    renew_session_id()
