"""Routes for /login, /logout, "I forgot my password" and the mailed link that sets a password."""
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

from panel import actor as actors
from panel import emails
from panel import sessions, unit_of_work
from panel.access import staff_ip_allowed
from panel.audit.recorder import record_event
from panel.auth import bp, password_reset, reset_pages, throttle
from panel.auth.forms import EmptyForm, LoginForm
from panel.auth.models import StaffUser
from panel.extensions import db
from panel.passwords import check_password
from panel.twofactor import gate as second_factor
from panel.twofactor import pages as factor_pages
from panel.types import utcnow

FAILED = "The e-mail or password is not right."
ADDRESS_REFUSED = "Staff may not sign in from your address (the staff IP allow-list)."


def _safe_next(target: str | None) -> str:
    # Only a path on this site: never another host, never a scheme-relative URL.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("customers.index")


def start_staff_session(user: StaffUser) -> None:
    """Nothing from before sign-in carries over, and the session gets a new id (panel/sessions.py)."""
    session.clear()
    login_user(user)
    session.permanent = True
    sessions.renew()


def end_this_staff_session() -> None:
    """Sign-out ends this browser's staff session and any Portal Login it started; the id is renewed, so
    a copy of the cookie carries nobody (its row is gone). A portal contact signed in here stays."""
    from panel.portal.access import end_portal_login, open_portal_login

    login = open_portal_login()
    if login is not None:
        end_portal_login(login, "the staff member signed out")
    session.pop("portal_login", None)
    logout_user()
    session.pop("csrf_token", None)
    sessions.renew()


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
            _record_failed_sign_in(email, user, "wrong password" if not ok else "deactivated")
            form.form_errors.append(FAILED)
            return render_template("auth/login.html", form=form), 401
        if not staff_ip_allowed(ip):
            _record_failed_sign_in(email, user, f"address {ip} not on the staff IP allow-list")
            form.form_errors.append(ADDRESS_REFUSED)
            return render_template("auth/login.html", form=form), 403
        throttle.signed_in(email, ip)  # with a second factor: once it has passed too (panel/auth/throttle.py)
        user.last_login_at = utcnow()  # committed with the sign-in by the request's unit of work
        next_url = _safe_next(request.args.get("next"))
        start_staff_session(user)
        record_event("LOGIN", "Sign-in", actor=actors.staff(user), table_name="staff_sign_in", row_id=user.id)
        return redirect(second_factor.after_staff_password(user, next_url), 303)
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    if EmptyForm().validate_on_submit():
        if current_user.is_authenticated:
            record_event("LOGOUT", "Sign-out", table_name="staff_sign_in", row_id=current_user.id)
        end_this_staff_session()
        flash("You are signed out.")
    return redirect(url_for("auth.login"), 303)


def _record_failed_sign_in(email: str, user: StaffUser | None, reason: str) -> None:
    """A LOGIN entry for a refused sign-in, kept although the answer is a refusal."""
    unit_of_work.keep_on_refusal()
    record_event("LOGIN", "Failed sign-in", data={"email": email, "reason": reason},
                 actor=actors.staff(user) if user is not None else None, table_name="staff_sign_in",
                 row_id=user.id if user is not None else "")


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password():
    """The same answer whether or not the e-mail belongs to a staff user (panel/auth/password_reset.py)."""
    return reset_pages.forgot_password_page("auth/forgot_password.html", password_reset.request_staff_reset)


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    """The mailed link of an invitation or a password reset: choose a password (with the second factor first,
    when one is enrolled), then sign in. An invited user whose role must use two-factor sign-in is signed in
    at once into enrolment, and can do nothing else before it is done (panel/twofactor/gate.py)."""
    purpose = password_reset.staff_purpose(token)
    link = password_reset.open_link(purpose, token) if purpose else None
    user = db.session.get(StaffUser, link.staff_user_id) if link else None
    return factor_pages.set_password_page(
        "auth/set_password.html", token, user, link,
        save=lambda password: password_reset.set_staff_password(purpose, token, password),
        sign_in_url=url_for("auth.login"), after_save=lambda: _invited_into_enrolment(user, purpose),
        invited=purpose == "invite")


def _invited_into_enrolment(user: StaffUser, purpose: str):
    """After an invitation's password, a role that must use two-factor sign-in goes straight to enrolment
    (signed in, from an allowed address); None: sign in as usual."""
    if purpose != "invite" or not second_factor.must_enrol(user) or not staff_ip_allowed(request.remote_addr or ""):
        return None
    start_staff_session(user)
    user.last_login_at = utcnow()
    record_event("LOGIN", "Sign-in", actor=actors.staff(user), table_name="staff_sign_in", row_id=user.id,
                 data={"through": "invitation link"})
    flash("Your password is set. Your role must use two-factor sign-in: set it up now.")
    return redirect(second_factor.after_staff_password(user, url_for("customers.index")), 303)


from panel.auth import session_routes  # noqa: E402, F401  (Your sessions, on the same blueprint)
