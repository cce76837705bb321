"""Who is looking at the portal: a contact signed in themself, or staff in Portal Login as a contact.

The portal's guard (panel/portal/routes.py) turns the browser's session into the request's actor
(`current_actor`); everything else asks the actor. Nothing here commits: the request's unit of work
does (panel/unit_of_work.py). An expired Portal Login found here is ended within the request that
found it (and again by the next one, should that request answer with an error and roll back).
"""
import hashlib
import ipaddress
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import g, request, session
from flask_login import current_user

from panel import actor as actors
from panel.actor import Actor
from panel.contacts.models import Contact
from panel.customers.models import Customer
from panel import sessions
from panel.audit.recorder import record_event
from panel.extensions import db
from panel.portal.models import AccessEvent, PortalLogin
from panel.types import utcnow

PORTAL_LOGIN_MINUTES = 30


class PortalLoginRefused(Exception):
    """Portal Login is not possible; the message says why."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _password_key(contact: Contact) -> str:
    # A portal session ends when the password it was opened with changes.
    return hashlib.sha256((contact.password_hash or "").encode()).hexdigest()[:16]


def renew_session_id() -> None:
    """A new session id (and so a new CSRF token) whenever who-is-who changes: the cookie's id is
    replaced at the end of the request (panel/sessions.py); "sid" only lets a test see the change."""
    session["sid"] = secrets.token_urlsafe(16)
    session.pop("csrf_token", None)
    sessions.renew()


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
    """Record the refusal (the sign-in route keeps it although it answers 401: unit_of_work.keep_on_refusal)."""
    db.session.add(AccessEvent(kind="portal sign-in refused", contact_id=contact.id, customer_id=contact.customer_id,
                               ip=ip, detail=f"{contact.email}: {reason}"))


def open_portal_login() -> PortalLogin | None:
    """This browser's Portal Login, if the staff member who opened it is signed in and it is still open.
    One found expired is ended here; a token that leads nowhere is dropped from the session."""
    token = session.get("portal_login")
    if not token:
        return None
    login = db.session.scalar(sa.select(PortalLogin).where(PortalLogin.token_digest == _digest(token)))
    staff_ok = login is not None and current_user.is_authenticated and current_user.id == login.staff_user_id
    if staff_ok and login.ended_at is None and login.expires_at > utcnow():
        return login
    if login is not None and login.ended_at is None and login.expires_at <= utcnow():
        end_portal_login(login, "expired after 30 minutes")
    session.pop("portal_login", None)
    return None


def current_actor() -> Actor | None:
    """The actor this browser's portal session stands for: staff in Portal Login as a contact, else the
    contact signed in themself (while active and on the password they signed in with); None: nobody."""
    login = open_portal_login()
    if login is not None:
        contact = db.session.get(Contact, login.contact_id)
        if contact is not None and contact.active:
            return actors.contact(contact, current_user._get_current_object())
        if contact is not None:
            end_portal_login(login, "the contact was deactivated")
        session.pop("portal_login", None)
    own = session.get("portal_contact")
    if own:
        contact = db.session.get(Contact, own.get("id"))
        # Deactivation, a new password and the allow-list apply to a session already open, at once.
        if (contact is not None and contact.active and contact.password_hash
                and own.get("key") == _password_key(contact) and ip_allowed(contact, request.remote_addr or "")):
            return actors.contact(contact)
        session.pop("portal_contact", None)
    return None


def portal_login_refusal(contact: Contact) -> str | None:
    """Why a Portal Login as `contact` would be refused whoever asks (the row menu shows it disabled with
    this reason), or None."""
    if not contact.active:
        return "This contact is deactivated and cannot be signed in as."
    customer = db.session.get(Customer, contact.customer_id)
    if customer.status == "Inactive":
        return "The customer is Inactive: its contacts cannot be signed in as."
    return None


def start_portal_login(actor: Actor, contact: Contact) -> PortalLogin:
    """Staff (`actor`) sees the portal as `contact` for at most 30 minutes; refused if it cannot be done."""
    if not actor.is_staff:
        raise PortalLoginRefused("Only staff can sign in as a contact.")
    staff = actor.staff
    present = current_actor() if session.get("portal_login") else None
    if present is not None and present.impersonated:
        raise PortalLoginRefused("A Portal Login is already open in this browser: return from it first.")
    refusal = portal_login_refusal(contact)
    if refusal:
        raise PortalLoginRefused(refusal)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    login = PortalLogin(token_digest=_digest(token), staff_user_id=staff.id, staff_email=staff.email,
                        contact_id=contact.id, contact_email=contact.email, customer_id=contact.customer_id,
                        started_at=now, expires_at=now + timedelta(minutes=PORTAL_LOGIN_MINUTES), ip=actor.ip)
    g.audit_comment = f"Portal Login as {contact.name} <{contact.email}> by {staff.email}"
    db.session.add(login)
    db.session.flush()
    record_event("LOGIN", "Portal Login", customer_id=contact.customer_id, actor=actor,
                 data={"contact": contact.email}, table_name="portal_login", row_id=login.id)
    renew_session_id()
    session["portal_login"] = token
    return login


def end_portal_login(login: PortalLogin, reason: str) -> None:
    g.audit_comment = f"Portal Login as {login.contact_email} by {login.staff_email} ended: {reason}"
    login.ended_at, login.end_reason = utcnow(), reason
    db.session.flush()
    record_event("LOGOUT", "Portal Login end", customer_id=login.customer_id, table_name="portal_login",
                 row_id=login.id, data={"contact": login.contact_email, "reason": reason})
    session.pop("portal_login", None)
    renew_session_id()
