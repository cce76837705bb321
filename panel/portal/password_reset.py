"""Routes for the portal's "I forgot my password" and the mailed link that sets a new one (the rules are
in panel/auth/password_reset.py, shared with staff)."""
from flask import flash, redirect, render_template, request, url_for

from panel.auth import links, password_reset
from panel.auth.forms import ForgotPasswordForm, NewPasswordForm
from panel.portal import bp


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


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    if password_reset.open_link("portal_reset", token) is None:
        return render_template("portal/set_password.html", form=None, invalid=links.INVALID), 404
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            password_reset.set_portal_password(token, form.new.data)
        except links.LinkInvalid as error:
            return render_template("portal/set_password.html", form=None, invalid=str(error)), 404
        flash("Your password is set: sign in with it.")
        return redirect(url_for("portal.login"), 303)
    return render_template("portal/set_password.html", form=form), 422 if form.is_submitted() else 200
