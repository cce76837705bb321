"""Routes for the portal's "I forgot my password" and the mailed link that sets a new one (the rules are
in panel/auth/password_reset.py, shared with staff). A contact with a second factor gives it first: a code,
a recovery code or a passkey, checked under the sign-in throttle; a wrong one changes nothing."""
from flask import abort, request, url_for

from panel import unit_of_work
from panel.auth import links, password_reset, reset_pages
from panel.contacts.models import Contact
from panel.extensions import db
from panel.portal import bp
from panel.twofactor import factors, passkeys
from panel.twofactor import pages as factor_pages


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password():
    return reset_pages.forgot_password_page("portal/forgot_password.html", password_reset.request_portal_reset)


def _link_contact(token: str):
    link = password_reset.open_link("portal_reset", token)
    contact = db.session.get(Contact, link.contact_id) if link else None
    if contact is None or not contact.active:
        return None, None
    return contact, link


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    contact, link = _link_contact(token)
    return factor_pages.set_password_page(
        "portal/set_password.html", token, contact, link,
        save=lambda password: password_reset.set_portal_password(token, password),
        sign_in_url=url_for("portal.login"))


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
