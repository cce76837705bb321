"""The portal's two-factor pages: the second step of a contact's sign-in (a code or a passkey), turning TOTP
on, the contact's passkeys, new recovery codes and turning it off (the guard is the portal's,
panel/portal/routes.py load_identity). Nothing here in Portal Login: staff never change a contact's factors."""
from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for

from panel import actor as actors
from panel import unit_of_work
from panel.auth import throttle
from panel.auth.forms import EmptyForm
from panel.portal import bp
from panel.portal.forms import MobileCodeForm, ProfileForm
from panel.twofactor import factors, gate, passkeys
from panel.twofactor.factors import FactorError
from panel.twofactor.forms import CodeForm, TurnOffForm
from panel.twofactor.pages import checked_code, checked_proof, enrolment, new_codes_page, own_factors, throttle_keys


def _own_contact():
    actor = actors.current()
    if actor.impersonated:
        abort(403, "In Portal Login the contact's second factor cannot be changed.")
    return actor.contact


def _verify_page(contact, form, code: int = 200):
    return render_template("twofactor/portal_verify.html", form=form,
                           has_passkeys=bool(factors.passkeys_of(contact))), code


@bp.route("/two-factor", methods=["GET", "POST"])
def two_factor():
    actor = actors.current()
    if actor.impersonated or gate.portal_step(actor.contact) != gate.VERIFY:
        return redirect(url_for("portal.home"))
    contact = actor.contact
    form = CodeForm()
    if request.method == "POST":
        if not form.validate():
            return _verify_page(contact, form, 422)
        ok, status = checked_code(contact, form)
        if not ok:
            return _verify_page(contact, form, status)
        gate.portal_complete(contact)
        return redirect(url_for("portal.home"), 303)
    return _verify_page(contact, form)


@bp.route("/two-factor/setup", methods=["GET", "POST"])
def two_factor_setup():
    contact = _own_contact()
    if factors.has_totp(contact):
        flash("Two-factor sign-in is on already.")
        return redirect(url_for("portal.profile"))

    def done():
        gate.portal_complete(contact)
        return url_for("portal.home")

    return enrolment(contact, "twofactor/portal_enrol.html", done=done)


@bp.post("/two-factor/off")
def two_factor_off():
    """Turn one's own second factor off, with a current code or the password; refused with the reason when
    the customer requires it."""
    contact = _own_contact()
    form = TurnOffForm()
    if not form.validate():
        return _profile_with(form, 422)
    reason = factors.why_required(contact)
    if reason is not None:
        form.form_errors.append(reason)
        return _profile_with(form, 409)
    ok, status = checked_proof(contact, form)
    if not ok:
        return _profile_with(form, status)
    try:
        factors.turn_off(actors.current(), contact)
    except FactorError as error:
        form.form_errors.append(str(error))
        return _profile_with(form, 409)
    flash("Two-factor sign-in is off.")
    return redirect(url_for("portal.profile"), 303)


def _profile_with(off_form, code: int):
    """The profile page with the turn-off form's messages (the profile's own form as stored)."""
    contact = actors.current().contact
    return render_template("portal/profile.html", form=ProfileForm(formdata=None, obj=contact), contact=contact,
                           code_form=MobileCodeForm(formdata=None), off_form=off_form), code


@bp.post("/two-factor/recovery-codes")
def two_factor_codes():
    contact = _own_contact()
    if not EmptyForm().validate_on_submit():
        abort(400, "The form expired. Reload the page and try again.")
    try:
        return new_codes_page(contact, portal=actors.current())
    except FactorError as error:
        abort(409, str(error))


# -- passkeys ---------------------------------------------------------------------------------------

def _answer(text: str):
    return current_app.response_class(text, mimetype="application/json", headers={"Cache-Control": "no-store"})


@bp.post("/passkeys/options")
def passkey_register_options():
    return _answer(passkeys.registration_options(_own_contact()))


@bp.post("/passkeys")
def passkey_register():
    contact = _own_contact()
    try:
        data = passkeys.parse(request.get_data())
        name = str(data.get("name") or "").strip()[:100] or "Passkey"
        passkeys.register(contact, name, passkeys.parse_part(data.get("credential")))
    except FactorError as error:
        return jsonify(error=str(error)), 422
    if gate.portal_step(contact) == gate.ENROL:
        gate.portal_complete(contact)
        after = url_for("portal.home")
    else:
        after = url_for("portal.profile")
    flash(f"Passkey “{name}” registered.")
    return jsonify(redirect=after), 201


@bp.post("/passkeys/<int:passkey_id>/remove")
def passkey_remove(passkey_id: int):
    contact = _own_contact()
    if not EmptyForm().validate_on_submit():
        abort(400, "The form expired. Reload the page and try again.")
    try:
        passkey = factors.remove_passkey(actors.current(), contact, passkey_id)
    except FactorError as error:
        abort(409, str(error))
    if passkey is None:
        abort(404, "There is no such passkey.")
    flash(f"Passkey “{passkey.name}” removed.")
    return redirect(url_for("portal.profile"), 303)


def _verifying_contact():
    actor = actors.current()
    if actor.impersonated or gate.portal_step(actor.contact) != gate.VERIFY:
        abort(409, "No second factor is asked for now.")
    return actor.contact


@bp.post("/two-factor/passkey/options")
def passkey_verify_options():
    return _answer(passkeys.sign_in_options(_verifying_contact()))


@bp.post("/two-factor/passkey")
def passkey_verify():
    """A passkey in place of the code at the second step of sign-in (throttled like a code)."""
    contact = _verifying_contact()
    key, ip_key = throttle_keys(contact)
    wait = throttle.wait_before_next_try(key, ip_key)
    if wait is not None:
        return jsonify(error=f"Too many wrong tries. Try again in {throttle.minutes(wait)} minute(s)."), 429
    try:
        passkeys.check_sign_in(passkeys.parse_part(passkeys.parse(request.get_data())), contact)
    except FactorError as error:
        throttle.record_failure(key, ip_key)
        unit_of_work.keep_on_refusal()
        return jsonify(error=str(error)), 401
    throttle.forget_failures(key)
    gate.portal_complete(contact)
    return jsonify(redirect=url_for("portal.home"))


@bp.app_template_global("two_factor_on")
def two_factor_on(contact) -> bool:
    return factors.enrolled(contact)


@bp.app_template_global("own_factors")
def own_factors_of(owner) -> dict:
    return own_factors(owner)


@bp.app_template_global("turn_off_form")
def turn_off_form() -> TurnOffForm:
    return TurnOffForm(formdata=None)
