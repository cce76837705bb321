"""The "I forgot my password" page, one view for the staff routes and the portal's: each passes its template
and its domain function (panel/auth/password_reset.py). Not a routes module: both blueprints' routes call it.
The page of the mailed link that sets the password asks for a second factor, so it is shared from
panel/twofactor/pages.py (set_password_page), above this area."""
from collections.abc import Callable
from datetime import timedelta

from flask import render_template, request

from panel.auth import links
from panel.auth.forms import ForgotPasswordForm


def forgot_password_page(template: str, request_reset: Callable[[str, str], timedelta | None]):
    """The same answer whether or not the e-mail belongs to an account; `request_reset(email, ip)` mails the
    link and gives the wait when the address asked too often (429, the message by the field)."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        wait = request_reset(form.email.data, request.remote_addr or "")
        if wait is not None:
            form.email.errors = [f"Too many requests from your address. Try again in {links.minutes(wait)} minute(s)."]
            return render_template(template, form=form), 429
        return render_template(template, form=form, sent=True)
    return render_template(template, form=form), 422 if form.is_submitted() else 200
