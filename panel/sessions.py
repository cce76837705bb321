"""Server-side sessions: the cookie holds only a random id; the database keeps the digest of that id,
the session's data, who it signs in (a staff user, a portal contact, or both in one browser), its device
and address, and when it started and was last seen.

Every request looks its session up by the digest of the cookie's id. Ending a session is a change of
its row, seen by the next request at once: `end_staff_sessions` / `end_contact_sessions` clear the
identity from the rows concerned (a copied cookie then carries nobody), and the same happens by itself
when a staff user's password, role, permission groups or active flag change, or a contact's password or active flag
(`install()`'s flush hook), whatever code made the change. Sign-out and sign-in renew the id.

The request's own changes (the ends above) are part of its unit of work (panel/unit_of_work.py). The
session row's own write (its data, a renewed id, last seen at most once a minute) happens after the
unit of work has ended, in a unit of its own, as Flask saves a session after the answer is made.
"""
import hashlib
import json
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, has_request_context, request, session
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from panel import unit_of_work
from panel.audit.bulk import update_rows
from panel.audit.recorder import record_event
from panel.auth.models import StaffGroupMember, StaffUser
from panel.contacts.models import Contact
from panel.extensions import db
from panel.portal.models import PortalLogin
from panel.types import UTCDateTime, utcnow

LAST_SEEN_EVERY = timedelta(minutes=1)
STAFF_KEYS = ("_user_id", "_fresh", "_id", "portal_login")
CONTACT_KEYS = ("portal_contact",)


class WebSession(db.Model):
    """One browser's session. Not audited row by row (last seen changes all day); revocations are
    REVOKE entries of the audit chain (record_revocation)."""

    __tablename__ = "web_session"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    token_digest: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    data: so.Mapped[str] = so.mapped_column(sa.Text, default="{}")
    staff_user_id: so.Mapped[int | None] = so.mapped_column(index=True)
    contact_id: so.Mapped[int | None] = so.mapped_column(index=True)
    user_agent: so.Mapped[str] = so.mapped_column(sa.String(300), default="")
    ip: so.Mapped[str] = so.mapped_column(sa.String(45), default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow, index=True)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _lifetime() -> timedelta:
    return current_app.permanent_session_lifetime


class ServerSession(CallbackDict, SessionMixin):
    def __init__(self, initial=None, row=None, token: str | None = None):
        def on_update(self):
            self.modified = True
            self.accessed = True

        super().__init__(initial, on_update)
        self.row = row  # the columns read at open: id, staff_user_id, contact_id, last_seen_at; None: new
        self.token = token  # the cookie's id, in memory only: re-sent when the cookie's expiry moves on
        self.renew = False
        self.modified = False
        self.failed = None  # the database error that kept the session from being read

    @property
    def row_id(self) -> int | None:
        return self.row.id if self.row is not None else None


def renew() -> None:
    """Give this browser's session a new id at the end of the request (sign-in, sign-out, Portal Login)."""
    if isinstance(session._get_current_object(), ServerSession):
        session.renew = True
        session.modified = True


def _staff_of(data: dict) -> int | None:
    try:
        return int(data["_user_id"]) if data.get("_user_id") is not None else None
    except (TypeError, ValueError):
        return None


def _contact_of(data: dict) -> int | None:
    own = data.get("portal_contact")
    return own.get("id") if isinstance(own, dict) else None


class ServerSessions(SessionInterface):
    """Flask's session interface over the web_session table. The cookie is Secure whenever the request
    came over HTTPS (directly, or through the PROXY_COUNT proxies we trust)."""

    def get_cookie_secure(self, app) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or (request and request.is_secure))

    def open_session(self, app, request):
        token = request.cookies.get(self.get_cookie_name(app))
        if not token or len(token) > 100:
            return ServerSession()
        try:
            row = db.session.execute(
                sa.select(WebSession.id, WebSession.data, WebSession.staff_user_id, WebSession.contact_id,
                          WebSession.last_seen_at).where(WebSession.token_digest == digest(token))
            ).first()
        except sa.exc.SQLAlchemyError as error:
            # Raised again by the first before_request (raise_failed_open), where the app's error handlers
            # answer it (503 for a database gone or busy); the session is kept as it was.
            unit_of_work.discard()
            failed = ServerSession()
            failed.failed = error
            return failed
        if row is None or row.last_seen_at <= utcnow() - app.permanent_session_lifetime:
            return ServerSession()  # unknown, ended or idle too long: a new, empty session
        try:
            data = json.loads(row.data or "{}")
        except ValueError:
            data = {}
        # Whoever was signed out elsewhere (revoked, password or role changed) is gone from this session.
        if row.staff_user_id is None or _staff_of(data) != row.staff_user_id:
            for key in STAFF_KEYS:
                if key == "_fresh" and data.get(key) is False:
                    # "Not fresh" signs nobody in. Flask-Login sets it on every request of a session without its
                    # `_id` (a portal session): dropped here, it would be set again and every portal request would
                    # write its session row.
                    continue
                data.pop(key, None)
        if row.contact_id is None or _contact_of(data) != row.contact_id:
            for key in CONTACT_KEYS:
                data.pop(key, None)
        return ServerSession(data, row, token)

    def save_session(self, app, sess, response):
        name, domain, path = self.get_cookie_name(app), self.get_cookie_domain(app), self.get_cookie_path(app)
        if not isinstance(sess, ServerSession) or sess.failed is not None or response.status_code >= 500:
            return  # a failed answer (the database gone or busy) keeps the session as it was
        now = utcnow()
        seen_due = sess.row is not None and sess.row.last_seen_at <= now - LAST_SEEN_EVERY
        if not (sess.modified or sess.renew or seen_due):
            return
        if sess.row is None and not sess and not sess.renew:
            return  # nothing to keep, no row to make
        data = json.dumps(dict(sess), separators=(",", ":"), default=str)
        staff_id, contact_id = _staff_of(sess), _contact_of(sess)
        token = sess.token
        try:
            with unit_of_work.unit():
                if sess.row is None or sess.renew:
                    token = secrets.token_urlsafe(32)
                    if sess.row is not None:
                        db.session.execute(sa.delete(WebSession).where(WebSession.id == sess.row.id))
                    else:  # a new browser: a good moment to forget the sessions idle too long
                        db.session.execute(sa.delete(WebSession).where(
                            WebSession.last_seen_at <= now - app.permanent_session_lifetime))
                    db.session.add(WebSession(
                        token_digest=digest(token), data=data, staff_user_id=staff_id, contact_id=contact_id,
                        user_agent=(request.user_agent.string or "")[:300], ip=(request.remote_addr or "")[:45],
                        created_at=now, last_seen_at=now))
                else:
                    row = sess.row
                    # Only this request's own sign-in or sign-out changes who the row signs in: an end made
                    # meanwhile by another request (the columns no longer what this one read) stays.
                    values = {"last_seen_at": now, "ip": (request.remote_addr or "")[:45]}
                    if sess.modified:
                        values["data"] = data
                        values["staff_user_id"] = sa.case(
                            (WebSession.staff_user_id.is_not_distinct_from(row.staff_user_id), staff_id),
                            else_=WebSession.staff_user_id)
                        values["contact_id"] = sa.case(
                            (WebSession.contact_id.is_not_distinct_from(row.contact_id), contact_id),
                            else_=WebSession.contact_id)
                    db.session.execute(sa.update(WebSession).where(WebSession.id == row.id).values(**values))
        except Exception:  # noqa: BLE001 - a session that cannot be saved is not worth a failed answer
            current_app.logger.warning("the session could not be saved", exc_info=True)
            return
        if token is not None:  # a new id, or the same one with its expiry moved on
            response.set_cookie(
                name, token, expires=self.get_expiration_time(app, sess), httponly=self.get_cookie_httponly(app),
                domain=domain, path=path, secure=self.get_cookie_secure(app),
                samesite=self.get_cookie_samesite(app), partitioned=self.get_cookie_partitioned(app))
            response.vary.add("Cookie")


# -- ending sessions ----------------------------------------------------------------------------------

def _current_row_id() -> int | None:
    if not has_request_context():
        return None
    sess = session._get_current_object()
    return sess.row_id if isinstance(sess, ServerSession) else None


def _end_portal_logins(connection, staff_user_id: int, keep_token_of: int | None, reason: str) -> None:
    """End the Portal Logins the staff user opened, except the one held by the session `keep_token_of`; on
    the flush's connection, each end an audit entry through the bulk helper."""
    keep = None
    if keep_token_of is not None and has_request_context() and session.get("portal_login"):
        keep = digest(session["portal_login"])
    table = PortalLogin.__table__
    query = sa.select(table.c.id, table.c.customer_id).where(table.c.staff_user_id == staff_user_id,
                                                            table.c.ended_at.is_(None))
    if keep:
        query = query.where(table.c.token_digest != keep)
    now, why = utcnow(), reason[:100]
    changes = [(row.id, row.customer_id, {"ended_at": (None, now), "end_reason": (None, why)})
               for row in connection.execute(query)]
    if changes:
        update_rows(connection, table, changes, f"Portal Login ended: {why}")


def end_sessions(owner_column, owner_id: int, *, keep_current: bool = False, only: int | None = None,
                 connection=None) -> int:
    """Clear `owner_column` (WebSession.staff_user_id or .contact_id) from the owner's sessions: all, all but
    this browser's, or only the row `only`. The other identity a row may hold (staff and contact in one
    browser) stays signed in. Returns how many sessions were ended."""
    conn = connection or db.session.connection()
    current = _current_row_id()
    query = sa.update(WebSession).where(owner_column == owner_id)
    if only is not None:
        query = query.where(WebSession.id == only)
    elif keep_current and current is not None:
        query = query.where(WebSession.id != current)
    return conn.execute(query.values({owner_column: None})).rowcount


def end_staff_sessions(staff_user_id: int, *, keep_current: bool = False, only: int | None = None,
                       reason: str = "signed out everywhere", connection=None) -> int:
    """Sign the staff user out of their sessions (all, all but this browser's, or only the row `only`),
    and end the Portal Logins those sessions opened. Returns how many sessions were ended."""
    conn = connection or db.session.connection()
    ended = end_sessions(WebSession.staff_user_id, staff_user_id, keep_current=keep_current, only=only,
                         connection=conn)
    if only is None:
        _end_portal_logins(conn, staff_user_id, _current_row_id() if keep_current else None,
                           f"staff sessions ended: {reason}")
    return ended


def end_contact_sessions(contact_id: int, *, keep_current: bool = False, only: int | None = None,
                         connection=None) -> int:
    """Sign the contact out of their portal sessions (all, all but this browser's, or only the row `only`)."""
    return end_sessions(WebSession.contact_id, contact_id, keep_current=keep_current, only=only,
                        connection=connection)


def listed(*, staff_user_id: int | None = None, contact_id: int | None = None, everyone_staff: bool = False):
    """Open sessions, newest seen first: of one staff user, one contact, or (admins) every staff user."""
    since = utcnow() - _lifetime()
    query = sa.select(WebSession).where(WebSession.last_seen_at > since).order_by(WebSession.last_seen_at.desc())
    if everyone_staff:
        query = query.where(WebSession.staff_user_id.is_not(None))
    elif staff_user_id is not None:
        query = query.where(WebSession.staff_user_id == staff_user_id)
    else:
        query = query.where(WebSession.contact_id == contact_id)
    return db.session.scalars(query).all()


def current_id() -> int | None:
    return _current_row_id()


# -- ends that follow from a change, whoever made it ----------------------------------------------------

def _changed(obj, key: str) -> bool:
    history = sa.inspect(obj).attrs[key].history
    return bool(history.deleted) and history.added != history.deleted


def _after_flush(sess, flush_context) -> None:
    # A change of permission groups is a change of what the user may do, like a change of role.
    regrouped = {obj.staff_user_id for obj in (*sess.new, *sess.deleted) if isinstance(obj, StaffGroupMember)}
    for staff_user_id in sorted(regrouped):
        end_staff_sessions(staff_user_id, reason="permission groups changed", connection=sess.connection())
    for obj in sess.dirty:
        if isinstance(obj, StaffUser):
            deactivated = _changed(obj, "active") and not obj.active
            if _changed(obj, "password_hash") or _changed(obj, "role") or deactivated:
                # The user changing their own password keeps this browser's session (renewed by the route).
                own = has_request_context() and session.get("_user_id") == str(obj.id) and not deactivated \
                    and not _changed(obj, "role")
                end_staff_sessions(obj.id, keep_current=own, reason="password, role or active changed",
                                   connection=sess.connection())
        elif isinstance(obj, Contact):
            deactivated = _changed(obj, "active") and not obj.active
            if _changed(obj, "password_hash") or deactivated:
                own = has_request_context() and _contact_of(session) == obj.id and not deactivated
                end_contact_sessions(obj.id, keep_current=own, connection=sess.connection())


def raise_failed_open():
    failed = getattr(session._get_current_object(), "failed", None)
    if failed is not None:
        raise failed


def install(app=None) -> None:
    if app is not None:  # first of all before_request functions, so CSRF and sign-in checks see no half session
        app.before_request_funcs.setdefault(None, []).insert(0, raise_failed_open)
    if not sa.event.contains(so.Session, "after_flush", _after_flush):
        sa.event.listen(so.Session, "after_flush", _after_flush)


def record_revocation(actor, who: str, count: int, what: str, *, contact=None) -> None:
    """A REVOKE entry in the audit chain: `actor` ended `count` sessions of `who` (staff or portal)."""
    record_event("REVOKE", "Session revoked", customer_id=getattr(contact, "customer_id", None),
                 data={"whose": who, "what": what, "sessions": count}, actor=actor, table_name="web_session",
                 row_id=f"contact:{contact.id}" if contact is not None else "")
