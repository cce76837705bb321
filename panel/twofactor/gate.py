"""The half-signed-in state: after the password, a session that owes a second factor (or must enrol one
first) reaches only the second-factor pages and sign-out.

The state is one small dict in the session, keyed by who it belongs to: {"id": ..., "step": "verify" |
"enrol" | "done"}. A session without a state for its user (signed in some other way) is worked out from
the database once, so the gate fails closed. The staff guard (panel/access.py, through the hold registered
by `register`) and the portal guard (panel/portal/routes.py) each call one function here.
"""
from flask import current_app, redirect, request, session, url_for

from panel import access
from panel.twofactor import factors

STAFF_KEY, PORTAL_KEY = "second_factor", "portal_second_factor"
VERIFY, ENROL, DONE = "verify", "enrol", "done"

STAFF_ALLOWED = {
    VERIFY: frozenset({"twofactor.verify", "twofactor.passkey_sign_in_options", "twofactor.passkey_sign_in",
                       "auth.logout", "auth.login"}),
    ENROL: frozenset({"twofactor.security", "twofactor.enrol_totp", "twofactor.passkey_register_options",
                      "twofactor.passkey_register", "auth.logout", "auth.login"}),
}
PORTAL_ALLOWED = {
    VERIFY: frozenset({"portal.two_factor", "portal.passkey_verify_options", "portal.passkey_verify", "portal.logout"}),
    ENROL: frozenset({"portal.two_factor_setup", "portal.passkey_register_options", "portal.passkey_register",
                      "portal.logout"}),
}
# Pages about one's own second factor: a read-only staff user may post to them too.
SELF_SERVICE = frozenset({"twofactor.verify", "twofactor.enrol_totp", "twofactor.passkey_register_options",
                          "twofactor.passkey_register", "twofactor.passkey_remove", "twofactor.passkey_sign_in_options",
                          "twofactor.passkey_sign_in", "twofactor.turn_off", "twofactor.new_codes"})


def _step_for(owner) -> str:
    if factors.enrolled(owner):
        return VERIFY
    return ENROL if factors.required(owner) else DONE


def must_enrol(owner) -> bool:
    """Required to have a second factor and has none yet."""
    return _step_for(owner) == ENROL


def _first_page(step: str, portal: bool) -> str:
    if portal:
        return url_for("portal.two_factor" if step == VERIFY else "portal.two_factor_setup")
    return url_for("twofactor.verify" if step == VERIFY else "twofactor.enrol_totp")


# -- staff ------------------------------------------------------------------------------------------

def after_staff_password(user, next_url: str) -> str:
    """Called by /login once the password is right: where to go next (the second factor, enrolment, or
    `next_url` when none is needed)."""
    step = _step_for(user)
    session[STAFF_KEY] = {"id": user.id, "step": step, "next": next_url}
    return next_url if step == DONE else _first_page(step, portal=False)


def staff_complete(user) -> str:
    state = session.get(STAFF_KEY) or {}
    session[STAFF_KEY] = {"id": user.id, "step": DONE}
    return state.get("next") or url_for("customers.index")


def staff_step(user) -> str:
    state = session.get(STAFF_KEY)
    if not state or state.get("id") != user.id:
        state = {"id": user.id, "step": _step_for(user)}
        session[STAFF_KEY] = state
    return state["step"]


def hold_staff(user):
    """The staff guard's one check: None when the session is fully signed in, else the answer that sends
    a half-signed-in session to its second-factor page."""
    step = staff_step(user)
    if step == DONE or request.endpoint in STAFF_ALLOWED[step]:
        return None
    return _held(_first_page(step, portal=False))


# -- portal -----------------------------------------------------------------------------------------

def after_portal_password(contact) -> str:
    step = _step_for(contact)
    session[PORTAL_KEY] = {"id": contact.id, "step": step}
    return url_for("portal.home") if step == DONE else _first_page(step, portal=True)


def portal_complete(contact) -> None:
    session[PORTAL_KEY] = {"id": contact.id, "step": DONE}


def portal_step(contact) -> str:
    state = session.get(PORTAL_KEY)
    if not state or state.get("id") != contact.id:
        state = {"id": contact.id, "step": _step_for(contact)}
        session[PORTAL_KEY] = state
    return state["step"]


def hold_contact(actor):
    """The portal guard's one check (Portal Login is staff who signed in fully: never held)."""
    if actor.impersonated:
        return None
    step = portal_step(actor.contact)
    if step == DONE or request.endpoint in PORTAL_ALLOWED[step]:
        return None
    return _held(_first_page(step, portal=True))


def _held(url: str):
    if getattr(request, "htmx", None):
        response = current_app.response_class(status=401)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, 303 if request.method not in ("GET", "HEAD") else 302)


def register() -> None:
    """At app start (panel/__init__.py): the staff guard holds a half-signed-in user here, and lets read-only
    staff write to their own second-factor pages."""
    if hold_staff not in access.STAFF_HOLDS:  # once, however many apps a process makes
        access.STAFF_HOLDS.append(hold_staff)
    access.READONLY_MAY_WRITE.update(SELF_SERVICE)
    access.ANY_STAFF.update(SELF_SERVICE | {"twofactor.security"})  # one's own second factor, whatever the groups
