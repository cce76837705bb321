"""Routes of passkeys (JSON for static/passkeys.js, CSRF in the X-CSRFToken header)."""
from flask import abort, current_app, flash, jsonify, redirect, request, session, url_for
from flask_login import current_user, login_user

from panel import actor as actors
from panel import unit_of_work
from panel.auth import password_reset
from panel.auth.forms import EmptyForm
from panel.auth.models import StaffUser
from panel.extensions import db
from panel.twofactor import bp, factors, gate, passkeys
from panel.twofactor import pages as factor_pages
from panel.twofactor.factors import FactorError
from panel.types import utcnow


def _answer(text: str):
    return current_app.response_class(text, mimetype="application/json", headers={"Cache-Control": "no-store"})


@bp.post("/account/passkeys/options")
def passkey_register_options():
    return _answer(passkeys.registration_options(current_user._get_current_object()))


@bp.post("/account/passkeys")
def passkey_register():
    user = current_user._get_current_object()
    try:
        data = passkeys.parse(request.get_data())
        name = str(data.get("name") or "").strip()[:100] or "Passkey"
        passkeys.register(user, name, passkeys.parse_part(data.get("credential")))
    except FactorError as error:
        return jsonify(error=str(error)), 422
    after = gate.staff_complete(user) if gate.staff_step(user) == gate.ENROL else url_for(".security")
    flash(f"Passkey “{name}” registered.")
    return jsonify(redirect=after), 201


@bp.post("/account/passkeys/<int:passkey_id>/remove")
def passkey_remove(passkey_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        passkey = factors.remove_passkey(actors.current(), current_user._get_current_object(), passkey_id)
    except FactorError as error:
        abort(409, str(error))
    if passkey is None:
        abort(404, "There is no such passkey.")
    flash(f"Passkey “{passkey.name}” removed.")
    return redirect(url_for(".security"), 303)


def _pending_user():
    """The half-signed-in staff user, or None on the sign-in page."""
    if current_user.is_authenticated and gate.staff_step(current_user) == gate.VERIFY:
        return current_user._get_current_object()
    return None


@bp.post("/login/passkey/options")
def passkey_sign_in_options():
    return _answer(passkeys.sign_in_options(_pending_user()))


@bp.post("/login/passkey")
def passkey_sign_in():
    pending = _pending_user()
    if current_user.is_authenticated and pending is None:
        return jsonify(redirect=url_for("customers.index"))
    try:
        user = passkeys.check_sign_in(passkeys.parse_part(passkeys.parse(request.get_data())), pending)
    except FactorError as error:
        unit_of_work.keep_on_refusal()
        return jsonify(error=str(error)), 401
    if pending is None:
        next_url = url_for("customers.index")
        session.clear()
        user.last_login_at = utcnow()
        login_user(user)
        session.permanent = True
        session[gate.STAFF_KEY] = {"id": user.id, "step": gate.DONE}
        return jsonify(redirect=next_url)
    return jsonify(redirect=gate.staff_complete(user))


# -- a passkey in place of the code on the mailed link's page (panel/auth/routes.py set_password) -------

def _link_owner(token: str):
    purpose = password_reset.staff_purpose(token)
    link = password_reset.open_link(purpose, token) if purpose else None
    user = db.session.get(StaffUser, link.staff_user_id) if link else None
    if user is None or not user.active or not factors.passkeys_of(user):
        abort(404, "This link has expired or has already been used.")
    return user, link


@bp.post("/set-password/<token>/passkey/options")
def reset_passkey_options(token: str):
    user, _ = _link_owner(token)
    return _answer(passkeys.sign_in_options(user))


@bp.post("/set-password/<token>/passkey")
def reset_passkey(token: str):
    user, link = _link_owner(token)
    answer = factor_pages.link_passkey(user, link.id, request.get_data(), url_for("auth.set_password", token=token))
    unit_of_work.keep_on_refusal()  # a wrong answer counts for the throttle
    return answer
