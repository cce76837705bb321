"""Your sessions (/account/sessions) and, for admins, every staff user's (/settings/sessions): where each
is signed in, with Revoke. Revocations are access events, which the audit log records."""
from flask import abort, flash, redirect, url_for

from panel import access, sessions
from panel import actor as actors
from panel.auth import bp
from panel.auth.forms import EmptyForm
from panel.auth.models import StaffUser
from panel.extensions import db
from panel.web import render_page


def _checked_form() -> None:
    if not EmptyForm().validate_on_submit():
        abort(400, "The form expired. Reload the page and try again.")


@bp.get("/account/sessions")
def my_sessions():
    actor = actors.current()
    return render_page("auth/sessions.html", rows=sessions.listed(staff_user_id=actor.staff.id),
                       current=sessions.current_id(), everyone=False, users={})


@bp.post("/account/sessions/<int:session_id>/revoke")
def revoke_my_session(session_id: int):
    _checked_form()
    actor = actors.current()
    if session_id == sessions.current_id():
        abort(409, "This is the session you are using: sign out instead.")
    count = sessions.end_staff_sessions(actor.staff.id, only=session_id)
    if not count:
        abort(404, "There is no such session, or it has ended.")
    sessions.record_revocation(actor, actor.staff.email, count, "session revoked")
    flash("The session is signed out.")
    return redirect(url_for("auth.my_sessions"), 303)


@bp.post("/account/sessions/others")
def revoke_my_other_sessions():
    _checked_form()
    actor = actors.current()
    count = sessions.end_staff_sessions(actor.staff.id, keep_current=True, reason="signed out everywhere else")
    sessions.record_revocation(actor, actor.staff.email, count, "signed out everywhere else")
    flash(f"Signed out everywhere else ({count} session(s)).")
    return redirect(url_for("auth.my_sessions"), 303)


@bp.post("/account/sessions/all")
def revoke_all_my_sessions():
    _checked_form()
    actor = actors.current()
    count = sessions.end_staff_sessions(actor.staff.id, reason="signed out everywhere")
    sessions.record_revocation(actor, actor.staff.email, count, "signed out everywhere")
    flash("You are signed out everywhere.")
    return redirect(url_for("auth.login"), 303)


# -- admins: every staff user's sessions --------------------------------------------------------------

def _admin_only():
    if not actors.current().is_admin:
        abort(403)


@bp.get("/settings/sessions")
def staff_sessions():
    _admin_only()
    rows = sessions.listed(everyone_staff=True)
    ids = {row.staff_user_id for row in rows}
    users = {u.id: u for u in db.session.scalars(db.select(StaffUser).where(StaffUser.id.in_(ids)))} if ids else {}
    return render_page("auth/sessions.html", rows=rows, current=sessions.current_id(), everyone=True, users=users)


@bp.post("/settings/sessions/<int:session_id>/revoke")
def revoke_staff_session(session_id: int):
    _admin_only()
    _checked_form()
    actor = actors.current()
    row = db.session.get(sessions.WebSession, session_id)
    if row is None or row.staff_user_id is None:
        abort(404, "There is no such session, or it has ended.")
    user = access.require(actor, db.session.get(StaffUser, row.staff_user_id))
    count = sessions.end_staff_sessions(user.id, only=session_id)
    sessions.record_revocation(actor, user.email, count, "session revoked by an admin")
    flash(f"{user.email} is signed out of that session.")
    return redirect(url_for("auth.login" if session_id == sessions.current_id() else "auth.staff_sessions"), 303)


@bp.post("/settings/sessions/user/<int:staff_id>/revoke")
def revoke_staff_user_sessions(staff_id: int):
    _admin_only()
    _checked_form()
    actor = actors.current()
    user = access.fetch(actor, StaffUser, staff_id, message="There is no such staff user.")
    count = sessions.end_staff_sessions(user.id, reason="signed out everywhere by an admin")
    sessions.record_revocation(actor, user.email, count, "signed out everywhere by an admin")
    flash(f"{user.email} is signed out everywhere ({count} session(s)).")
    return redirect(url_for("auth.login" if user.id == actor.staff.id else "auth.staff_sessions"), 303)


def device(user_agent: str) -> str:
    """A short name for the browser and system, from the user agent."""
    ua = user_agent or ""
    browser = next((name for key, name in (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
                                             ("Safari/", "Safari")) if key in ua), "")
    system = next((name for key, name in (("Windows", "Windows"), ("Android", "Android"), ("iPhone", "iPhone"),
                                            ("Mac OS", "macOS"), ("Linux", "Linux")) if key in ua), "")
    return " on ".join(part for part in (browser, system) if part) or (ua[:60] or "unknown device")


@bp.app_template_filter("device")
def device_filter(user_agent: str) -> str:
    return device(user_agent)


