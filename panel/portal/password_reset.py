"""Routes for the portal's "I forgot my password" and the mailed link that sets a new one (the rules are
in panel/auth/password_reset.py, shared with staff). A contact with a second factor gives it first: a code,
a recovery code or a passkey, checked under the sign-in throttle; a wrong one changes nothing."""
from flask import abort, flash, redirect, render_template, request, url_for

from panel import unit_of_work
from panel.auth import links, password_reset
from panel.auth.forms import ForgotPasswordForm, NewPasswordForm, NewPasswordWithCodeForm
from panel.contacts.models import Contact
from panel.extensions import db
from panel.portal import bp
from panel.twofactor import factors, passkeys
from panel.twofactor import pages as factor_pages


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        wait = password_reset.request_portal_reset(form.email.data, request.remote_addr or "")
        if wait is not None:
            form.email.errors = [f"Too many requests from your address. Try again in {links.minutes(wait)} minute(s)."]
            return render_template("portal/forgot_password.html", form=form), 429
        return render_template("portal/forgot_password.html", form=form, sent=True)
    return render_template("portal/forgot_password.html", form=form), 422 if form.is_submitted() else 200


def _link_contact(token: str):
    link = password_reset.open_link("portal_reset", token)
    contact = db.session.get(Contact, link.contact_id) if link else None
    if contact is None or not contact.active:
        return None, None
    return contact, link


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    contact, link = _link_contact(token)
    if contact is None:
        return render_template("portal/set_password.html", form=None, invalid=links.INVALID), 404
    ask = factor_pages.link_asks_second_factor(contact)
    form = NewPasswordWithCodeForm() if ask else NewPasswordForm()

    def page(status: int):
        return render_template("portal/set_password.html", form=form, token=token,
                               passkeys=ask and bool(factors.passkeys_of(contact)),
                               passkey_ok=ask and factor_pages.passkey_proved_link(contact, link.id)), status

    if not form.validate_on_submit():
        return page(422 if form.is_submitted() else 200)
    if ask:
        ok, status = factor_pages.link_factor_checked(contact, link.id, form)
        if not ok:
            return page(status)
    try:
        password_reset.set_portal_password(token, form.new.data)
    except links.LinkInvalid as error:
        return render_template("portal/set_password.html", form=None, invalid=str(error)), 404
    factor_pages.forget_link_proof()
    flash("Your password is set: sign in with it.")
    return redirect(url_for("portal.login"), 303)


@bp.post("/set-password/<token>/passkey/options")
def reset_passkey_options(token: str):
    contact, _ = _link_contact(token)
    if contact is None or not factors.passkeys_of(contact):
        abort(404, links.INVALID)
    return factor_pages.passkey_json(passkeys.sign_in_options(contact))


@bp.post("/set-password/<token>/passkey")
def reset_passkey(token: str):
    contact, link = _link_contact(token)
    if contact is None or not factors.passkeys_of(contact):
        abort(404, links.INVALID)
    answer = factor_pages.link_passkey(contact, link.id, request.get_data(), url_for("portal.set_password", token=token))
    unit_of_work.keep_on_refusal()  # a wrong answer counts for the throttle
    return answer
