"""Routes of two-factor sign-in for staff: the second step of sign-in, enrolment, one's own factors
(/account/two-factor), and the admins' page (/settings/two-factor: who must use it, resets)."""
from functools import wraps

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from panel import access, pages
from panel import actor as actors
from panel.auth.forms import EmptyForm
from panel.auth.models import StaffUser
from panel.contacts.models import Contact
from panel.extensions import db
from panel.options import set_option
from panel.twofactor import bp, factors, gate
from panel.twofactor.forms import CodeForm, RequirementForm, TurnOffForm
from panel.twofactor.pages import checked_code, checked_proof, enrolment, new_codes_page, own_factors
from panel.web import render_page

# -- sign-in, second step ---------------------------------------------------------------------------

@bp.route("/login/second-factor", methods=["GET", "POST"])
def verify():
    user = current_user._get_current_object()
    if gate.staff_step(user) != gate.VERIFY:
        return redirect(url_for("customers.index"))
    form = CodeForm()
    has_passkeys = bool(factors.passkeys_of(user))
    if request.method == "POST":
        if not form.validate():
            return render_template("twofactor/verify.html", form=form, has_passkeys=has_passkeys), 422
        ok, status = checked_code(user, form)
        if not ok:
            return render_template("twofactor/verify.html", form=form, has_passkeys=has_passkeys), status
        return redirect(gate.staff_complete(user), 303)
    return render_template("twofactor/verify.html", form=form, has_passkeys=has_passkeys)


# -- one's own second factors -----------------------------------------------------------------------

def _security_page(user, off_form=None, code: int = 200):
    return render_page("twofactor/security.html", sf=own_factors(user), enrolling=gate.staff_step(user) == gate.ENROL,
                       form=EmptyForm(), off_form=off_form or TurnOffForm(formdata=None), code=code)


@bp.get("/account/two-factor")
def security():
    return _security_page(current_user._get_current_object())


@bp.post("/account/two-factor/off")
def turn_off():
    """Turn one's own second factor off, with a current code or the password; refused (409, the reason on
    the page) when one's role must use it."""
    user = current_user._get_current_object()
    form = TurnOffForm()
    if not form.validate():
        return _security_page(user, form, 422)
    reason = factors.why_required(user)
    if reason is not None:
        form.form_errors.append(reason)
        return _security_page(user, form, 409)
    ok, status = checked_proof(user, form)
    if not ok:
        return _security_page(user, form, status)
    try:
        factors.turn_off(actors.current(), user)
    except factors.FactorError as error:
        form.form_errors.append(str(error))
        return _security_page(user, form, 409)
    flash("Two-factor sign-in is off.")
    return redirect(url_for(".security"), 303)


@bp.post("/account/two-factor/recovery-codes")
def new_codes():
    """Ten new recovery codes, shown once; the old ones stop working."""
    if not EmptyForm().validate_on_submit():
        abort(400, "The form expired. Reload the page and try again.")
    user = current_user._get_current_object()
    try:
        return new_codes_page(user, portal=None)
    except factors.FactorError as error:
        abort(409, str(error))


@bp.route("/account/two-factor/app", methods=["GET", "POST"])
def enrol_totp():
    user = current_user._get_current_object()
    if factors.has_totp(user):
        flash("An authenticator app is set up already.")
        return redirect(url_for(".security"))
    return enrolment(user, "twofactor/enrol.html", done=lambda: gate.staff_complete(user)
                     if gate.staff_step(user) == gate.ENROL else None)


# -- admins: who must use it, and resets ------------------------------------------------------------

def admin_only(view):
    @wraps(view)
    def guarded(*args, **kwargs):
        refused = access.require_admin()
        return refused if refused is not None else view(*args, **kwargs)

    return guarded


@bp.route("/settings/two-factor", methods=["GET", "POST"])
@admin_only
def admin():
    form = RequirementForm()
    if not form.is_submitted():
        form.required.data = factors.staff_requirement()
    elif form.validate():
        set_option(factors.REQUIRE_OPTION, form.required.data)
        flash("Saved.")
        return redirect(url_for(".admin"), 303)
    staff, enrolled = factors.staff_and_factors()
    contacts = factors.contacts_with_totp(actors.current(), pages.requested(), current_app.config["PAGE_SIZE"])
    return render_page("twofactor/admin.html", form=form, staff=staff, enrolled=enrolled, contacts=contacts,
                       reset_form=EmptyForm(), code=422 if form.is_submitted() else 200)


@bp.post("/settings/two-factor/staff/<int:staff_user_id>/reset")
@admin_only
def reset_staff(staff_user_id: int):
    user = db.session.get(StaffUser, staff_user_id)
    if user is None:
        abort(404, "There is no such staff user.")
    return _reset(user)


@bp.post("/settings/two-factor/contacts/<int:contact_id>/reset")
@admin_only
def reset_contact(contact_id: int):
    contact = access.fetch(actors.current(), Contact, contact_id, write=True)
    return _reset(contact)


def _reset(owner):
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        done = factors.reset(actors.current(), owner)
    except factors.FactorError as error:
        abort(409, str(error))
    flash(f"The second factor of {owner.email} is reset; they were told by e-mail." if done
          else f"{owner.email} had no second factor.")
    return redirect(url_for(".admin"), 303)


from panel.twofactor import passkey_routes, portal_routes  # noqa: E402,F401  (they attach their views)
