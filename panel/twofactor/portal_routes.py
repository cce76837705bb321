"""The portal's two-factor pages: the second step of a contact's sign-in and turning TOTP on (the guard is
the portal's, panel/portal/routes.py load_identity)."""
from flask import abort, flash, redirect, render_template, request, url_for

from panel import actor as actors
from panel.portal import bp
from panel.twofactor import factors, gate
from panel.twofactor.forms import CodeForm
from panel.twofactor.pages import checked_code, enrolment


@bp.route("/two-factor", methods=["GET", "POST"])
def two_factor():
    actor = actors.current()
    if actor.impersonated or gate.portal_step(actor.contact) != gate.VERIFY:
        return redirect(url_for("portal.home"))
    contact = actor.contact
    form = CodeForm()
    if request.method == "POST":
        if not form.validate():
            return render_template("twofactor/portal_verify.html", form=form), 422
        ok, status = checked_code(contact, form)
        if not ok:
            return render_template("twofactor/portal_verify.html", form=form), status
        gate.portal_complete(contact)
        return redirect(url_for("portal.home"), 303)
    return render_template("twofactor/portal_verify.html", form=form)


@bp.route("/two-factor/setup", methods=["GET", "POST"])
def two_factor_setup():
    actor = actors.current()
    if actor.impersonated:
        abort(403, "In Portal Login the contact's second factor cannot be changed.")
    contact = actor.contact
    if factors.has_totp(contact):
        flash("Two-factor sign-in is on already.")
        return redirect(url_for("portal.profile"))

    def done():
        gate.portal_complete(contact)
        return url_for("portal.home")

    return enrolment(contact, "twofactor/portal_enrol.html", done=done)


@bp.app_template_global("two_factor_on")
def two_factor_on(contact) -> bool:
    return factors.has_totp(contact)
