"""Single-use links mailed to set a password: invitations of new staff (48 hours) and password resets of
staff and contacts (one hour), with the throttle on "I forgot my password" requests.

A link is signed (itsdangerous, with the app's secret key and its purpose, so a reset link is never an
invitation) and names a random secret of which only the SHA-256 digest is stored (auth_link). It is spent
by one conditional UPDATE (`used_at IS NULL`), so two requests racing with the same link cannot both use
it, on SQLite and PostgreSQL alike. Issuing a link withdraws the person's earlier open ones of that kind.
"""
import hashlib
import math
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer

from panel import sessions, unit_of_work
from panel.auth.models import AuthLink, ResetRequest, StaffUser
from panel.extensions import db
from panel.types import utcnow

VALID_FOR = {"invite": timedelta(hours=48), "staff_reset": timedelta(hours=1), "portal_reset": timedelta(hours=1)}
INVALID = "This link has expired or has already been used. Ask for a new one."
RESET_WINDOW = timedelta(hours=1)
RESET_MAX_PER_EMAIL = 3   # links mailed to one address per hour (further requests get the same answer, no mail)
RESET_MAX_PER_IP = 10     # requests from one address per hour (then "try again in N minutes")


class LinkInvalid(ValueError):
    """The link is not one of ours, has expired, or was used."""


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="panel-auth-link")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(purpose: str, *, staff_user=None, contact=None) -> str:
    """A new link's token for `staff_user` or `contact` (flushed, not committed); earlier open links of
    the same purpose for the same person stop working."""
    owner = (AuthLink.staff_user_id == staff_user.id) if staff_user is not None else (AuthLink.contact_id == contact.id)
    now = utcnow()
    db.session.execute(sa.update(AuthLink).where(owner, AuthLink.purpose == purpose, AuthLink.used_at.is_(None))
                       .values(used_at=now))
    secret = secrets.token_urlsafe(32)
    db.session.add(AuthLink(purpose=purpose, staff_user_id=getattr(staff_user, "id", None),
                            contact_id=getattr(contact, "id", None), digest=_digest(secret), created_at=now,
                            expires_at=now + VALID_FOR[purpose]))
    db.session.flush()
    return _serializer().dumps({"p": purpose, "s": secret})


def find(purpose: str, token: str) -> AuthLink:
    """The open link `token` stands for; LinkInvalid if it is forged, of another purpose, expired or used."""
    try:
        payload = _serializer().loads(token, max_age=int(VALID_FOR[purpose].total_seconds()))
    except BadSignature:
        raise LinkInvalid(INVALID) from None
    if not isinstance(payload, dict) or payload.get("p") != purpose or not isinstance(payload.get("s"), str):
        raise LinkInvalid(INVALID)
    link = db.session.scalar(sa.select(AuthLink).where(AuthLink.digest == _digest(payload["s"])))
    if link is None or link.purpose != purpose or link.used_at is not None or link.expires_at <= utcnow():
        raise LinkInvalid(INVALID)
    return link


def spend(purpose: str, token: str) -> AuthLink:
    """Use the link once: the database refuses a second use, even by a request racing this one."""
    link = find(purpose, token)
    spent = db.session.execute(sa.update(AuthLink).where(AuthLink.id == link.id, AuthLink.used_at.is_(None))
                               .values(used_at=utcnow()))
    if spent.rowcount != 1:
        raise LinkInvalid(INVALID)
    return link


def has_open_invitation(staff_user_id: int) -> bool:
    return db.session.scalar(sa.select(AuthLink.id).where(
        AuthLink.staff_user_id == staff_user_id, AuthLink.purpose == "invite", AuthLink.used_at.is_(None),
        AuthLink.expires_at > utcnow()).limit(1)) is not None


def end_other_sessions(person) -> None:
    """End every session of a staff user or contact whose password was reset (nobody is signed in while
    following a link, so "other" is every one). The flush that stores the new password does it already
    (panel/sessions.py); this says so where the reset happens, and covers a reset that keeps the hash."""
    if isinstance(person, StaffUser):
        sessions.end_staff_sessions(person.id)
    else:
        sessions.end_contact_sessions(person.id)


# -- the throttle on reset requests -----------------------------------------------------------------

def reset_request_wait(email: str, ip: str) -> timedelta | None:
    """How long `ip` must wait before asking again (None: it may ask now). Records the request, which is
    kept although the answer may be a refusal."""
    since = utcnow() - RESET_WINDOW
    recent = db.session.scalars(sa.select(ResetRequest.at).where(ResetRequest.ip == ip, ResetRequest.at > since)
                                .order_by(ResetRequest.at.desc()).limit(RESET_MAX_PER_IP)).all()
    if len(recent) >= RESET_MAX_PER_IP:
        return recent[-1] + RESET_WINDOW - utcnow()
    db.session.add(ResetRequest(email=email, ip=ip))
    unit_of_work.keep_on_refusal()
    return None


def may_mail_reset(email: str) -> bool:
    """Whether another reset link may go to `email` this hour (the request just recorded counts)."""
    since = utcnow() - RESET_WINDOW
    db.session.flush()
    count = db.session.scalar(sa.select(sa.func.count()).select_from(ResetRequest)
                              .where(ResetRequest.email == email, ResetRequest.at > since))
    return count <= RESET_MAX_PER_EMAIL


def minutes(wait: timedelta) -> int:
    return max(1, math.ceil(wait.total_seconds() / 60))


def link_url(endpoint: str, token: str) -> str:
    return url_for(endpoint, token=token, _external=True)
