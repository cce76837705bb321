"""The contact's own sessions in the portal (/portal/sessions): where they are signed in, with Revoke and
"Sign out everywhere else". Not during Portal Login: staff do not end a contact's sessions from there."""
from flask import abort, flash, redirect, url_for

from panel import actor as actors
from panel import sessions
from panel.auth.forms import EmptyForm
from panel.portal import bp
from panel.web import render_page


def _own_contact():
    actor = actors.current()
    if actor.impersonated:
        abort(403, "In Portal Login the contact's sessions are not shown.")
    return actor


def _checked_form() -> None:
    if not EmptyForm().validate_on_submit():
        abort(400, "The form expired. Reload the page and try again.")


@bp.get("/sessions")
def sessions_page():
    actor = _own_contact()
    return render_page("portal/sessions.html", rows=sessions.listed(contact_id=actor.contact.id),
                       current=sessions.current_id())


@bp.post("/sessions/<int:session_id>/revoke")
def revoke_session(session_id: int):
    actor = _own_contact()
    _checked_form()
    if session_id == sessions.current_id():
        abort(409, "This is the session you are using: sign out instead.")
    count = sessions.end_contact_sessions(actor.contact.id, only=session_id)
    if not count:
        abort(404, "There is no such session, or it has ended.")
    sessions.record_revocation(actor, actor.contact.email, count, "portal session revoked", contact=actor.contact)
    flash("The session is signed out.")
    return redirect(url_for("portal.sessions_page"), 303)


@bp.post("/sessions/others")
def revoke_other_sessions():
    actor = _own_contact()
    _checked_form()
    count = sessions.end_contact_sessions(actor.contact.id, keep_current=True)
    sessions.record_revocation(actor, actor.contact.email, count, "portal: signed out everywhere else", contact=actor.contact)
    flash(f"Signed out everywhere else ({count} session(s)).")
    return redirect(url_for("portal.sessions_page"), 303)
