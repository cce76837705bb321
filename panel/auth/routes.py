"""Routes for /login and /logout."""
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from panel import emails
from panel.auth import bp, throttle
from panel.auth.forms import EmptyForm, LoginForm
from panel.auth.models import StaffUser
from panel.extensions import db
from panel.passwords import check_password
from panel.types import utcnow

FAILED = "The e-mail or password is not right."


def _safe_next(target: str | None) -> str:
    # Only a path on this site: never another host, never a scheme-relative URL.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("customers.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if request.method == "POST":
        if not form.validate():
            return render_template("auth/login.html", form=form), 422
        email = emails.lookup_key(form.email.data) or form.email.data.strip().lower()
        ip = request.remote_addr or ""
        wait = throttle.wait_before_next_try(email, ip)
        if wait is not None:
            form.form_errors.append(
                f"Too many failed sign-ins. Try again in {throttle.describe(wait)}."
            )
            return render_template("auth/login.html", form=form), 429
        user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == email))
        ok = check_password(form.password.data, user.password_hash if user else None)
        if not ok or not user.active:
            throttle.record_failure(email, ip)
            current_app.logger.info("failed staff sign-in from %s", ip)
            form.form_errors.append(FAILED)
            return render_template("auth/login.html", form=form), 401
        throttle.signed_in(email, ip)  # with a second factor: once it has passed too (panel/auth/throttle.py)
        user.last_login_at = utcnow()  # committed with the sign-in by the request's unit of work
        next_url = _safe_next(request.args.get("next"))
        session.clear()  # nothing from before sign-in carries over
        login_user(user)
        session.permanent = True
        return redirect(next_url, 303)
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    if EmptyForm().validate_on_submit():
        logout_user()
        flash("You are signed out.")
    return redirect(url_for("auth.login"), 303)
