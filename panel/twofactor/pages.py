"""What the staff and portal pages of two-factor sign-in share: checking a code under the sign-in throttle, and
the enrolment page (QR code, manual key, first code, recovery codes once), and the page of a mailed link that
sets a password (the second factor first). Not a routes module: the staff routes (routes.py, panel/auth/routes.py)
and the portal's (portal_routes.py, panel/portal/password_reset.py) call it."""
from collections.abc import Callable

from flask import current_app, flash, jsonify, redirect, render_template, request, session

from panel import actor as actors
from panel import unit_of_work
from panel.auth import links, throttle
from panel.auth.forms import NewPasswordForm, NewPasswordWithCodeForm
from panel.auth.models import StaffUser
from panel.twofactor import factors, passkeys
from panel.twofactor.forms import ConfirmForm


NOT_RIGHT = "That code is not right, or it was used already."


def throttle_keys(owner) -> tuple[str, str]:
    kind = "staff" if isinstance(owner, StaffUser) else "contact"
    return f"2fa:{kind}:{owner.id}", f"2fa:{request.remote_addr or ''}"


def checked_code(owner, form) -> tuple[bool, int]:
    """Check a second-factor code with the sign-in throttle: (accepted, status for a refusal)."""
    key, ip_key = throttle_keys(owner)
    wait = throttle.wait_before_next_try(key, ip_key)
    if wait is not None:
        form.code.errors = [f"Too many wrong codes. Try again in {throttle.minutes(wait)} minute(s)."]
        return False, 429
    if factors.check_second_factor(owner, form.code.data):
        throttle.forget_failures(key)
        return True, 200
    throttle.record_failure(key, ip_key)
    current_app.logger.info("wrong second-factor code from %s", request.remote_addr)
    form.code.errors = [NOT_RIGHT]
    return False, 401


def no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def enrolment(owner, template: str, done):
    """The enrolment page for staff and contacts: QR code and manual key, then the first code; the recovery
    codes are shown once, in the answer to the confirmation."""
    if request.method == "GET":
        unit_of_work.writing()  # the secret shown is kept on the first visit
    secret = factors.pending_totp(owner)
    form = ConfirmForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            key, ip_key = throttle_keys(owner)
            wait = throttle.wait_before_next_try(key, ip_key)
            if wait is not None:
                form.code.errors, status = [f"Too many wrong codes. Try again in {throttle.minutes(wait)} minute(s)."], 429
            else:
                try:
                    codes = factors.confirm_totp(actors.current(), owner, form.code.data)
                except factors.FactorError as error:
                    throttle.record_failure(key, ip_key)
                    form.code.errors, status = [str(error)], 422
                else:
                    throttle.forget_failures(key)
                    after = done()
                    return no_store(current_app.make_response(
                        render_template("twofactor/recovery_codes.html", codes=codes, next_url=after, portal=None
                                        if template == "twofactor/enrol.html" else actors.current())))
        else:
            status = 422
    uri = factors.provisioning_uri(owner, secret)
    response = current_app.make_response((render_template(template, form=form, qr=factors.qr_svg(uri),
                                                          manual_key=secret.secret), status))
    return no_store(response)


def too_many(owner, field) -> bool:
    """Under the sign-in throttle: True (with the message by `field`) when the owner must wait."""
    key, ip_key = throttle_keys(owner)
    wait = throttle.wait_before_next_try(key, ip_key)
    if wait is None:
        return False
    field.errors = [f"Too many wrong codes. Try again in {throttle.minutes(wait)} minute(s)."]
    return True


def checked_proof(owner, form) -> tuple[bool, int]:
    """A current code or the password (TurnOffForm), under the sign-in throttle: (accepted, status)."""
    if too_many(owner, form.code):
        return False, 429
    key, ip_key = throttle_keys(owner)
    if factors.proves_owner(owner, (form.code.data or "").strip(), form.password.data or ""):
        throttle.forget_failures(key)
        return True, 200
    throttle.record_failure(key, ip_key)
    current_app.logger.info("wrong code or password to turn two-factor sign-in off, from %s", request.remote_addr)
    form.code.errors = ["That code or password is not right."]
    return False, 401


def new_codes_page(owner, portal):
    """Ten new recovery codes, shown once (the old ones stop working)."""
    codes = factors.regenerate_recovery_codes(actors.current(), owner)
    return no_store(current_app.make_response(render_template(
        "twofactor/recovery_codes.html", codes=codes, next_url=None, portal=portal, renewed=True)))


def own_factors(owner) -> dict:
    """What the owner's own two-factor card shows (staff "Two-factor sign-in" page, portal profile)."""
    return {"has_totp": factors.has_totp(owner), "passkeys": factors.passkeys_of(owner),
            "codes_left": factors.recovery_codes_left(owner), "enrolled": factors.enrolled(owner),
            "required_reason": factors.why_required(owner)}


# -- the mailed link that sets a password (reset, invitation) ---------------------------------------

RESET_PASSKEY = "reset_passkey"
ASK_CODE = "Enter a code from your authenticator app or a recovery code (or use a passkey)."


def _proof_key(owner, link_id: int) -> dict:
    return {"link": link_id, "owner": f"{'staff' if isinstance(owner, StaffUser) else 'contact'}:{owner.id}"}


def link_asks_second_factor(owner) -> bool:
    return factors.enrolled(owner)


def passkey_proved_link(owner, link_id: int) -> bool:
    return session.get(RESET_PASSKEY) == _proof_key(owner, link_id)


def link_factor_checked(owner, link_id: int, form) -> tuple[bool, int]:
    """Before a mailed link sets the password of someone with a second factor: a passkey used on the page for
    this link, or a code checked under the sign-in throttle (a wrong one changes nothing else)."""
    if passkey_proved_link(owner, link_id):
        return True, 200
    if not (form.code.data or "").strip():
        form.code.errors = [ASK_CODE if factors.passkeys_of(owner) else "Enter a code from your authenticator app or a recovery code."]
        return False, 422
    return checked_code(owner, form)


def forget_link_proof() -> None:
    session.pop(RESET_PASSKEY, None)


def link_passkey(owner, link_id: int, body: bytes, after_url: str):
    """A passkey answer in place of the code on a mailed link's page (throttled like a code): JSON."""
    key, ip_key = throttle_keys(owner)
    wait = throttle.wait_before_next_try(key, ip_key)
    if wait is not None:
        return jsonify(error=f"Too many wrong tries. Try again in {throttle.minutes(wait)} minute(s)."), 429
    try:
        passkeys.check_sign_in(passkeys.parse_part(passkeys.parse(body)), owner)
    except factors.FactorError as error:
        throttle.record_failure(key, ip_key)
        return jsonify(error=str(error)), 401
    throttle.forget_failures(key)
    session[RESET_PASSKEY] = _proof_key(owner, link_id)
    return jsonify(redirect=after_url)


def set_password_page(template: str, token: str, owner, link, save: Callable[[str], object], sign_in_url: str,
                      after_save: Callable[[], object] | None = None, **context):
    """The page of a mailed link (a reset or an invitation) that sets a staff user's or a contact's password:
    404 when the link names nobody active; the second factor first when the owner has one; `save(password)`
    sets it (LinkInvalid when the link was used or expired meanwhile: 404). Then `after_save()` may answer
    (a staff invitation signs in into enrolment); otherwise the owner signs in with the new password at
    `sign_in_url`. `context` goes to the template as it is (the staff page's `invited`)."""
    if owner is None or not owner.active:
        return render_template(template, form=None, invalid=links.INVALID), 404
    ask = link_asks_second_factor(owner)
    form = NewPasswordWithCodeForm() if ask else NewPasswordForm()

    def page(status: int):
        return render_template(template, form=form, token=token, passkeys=ask and bool(factors.passkeys_of(owner)),
                               passkey_ok=ask and passkey_proved_link(owner, link.id), **context), status

    if not form.validate_on_submit():
        return page(422 if form.is_submitted() else 200)
    if ask:
        ok, status = link_factor_checked(owner, link.id, form)
        if not ok:
            return page(status)
    try:
        save(form.new.data)
    except links.LinkInvalid as error:
        return render_template(template, form=None, invalid=str(error)), 404
    forget_link_proof()
    answer = after_save() if after_save is not None else None
    if answer is not None:
        return answer
    flash("Your password is set: sign in with it.")
    return redirect(sign_in_url, 303)


def passkey_json(text: str):
    return current_app.response_class(text, mimetype="application/json", headers={"Cache-Control": "no-store"})
