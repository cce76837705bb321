"""A portal contact's passkeys in Chromium (its virtual authenticator): registered and named in the profile,
used at sign-in in place of the TOTP code, and removed."""
import json
import re

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from panel.audit.models import AuditEntry
from panel.extensions import db
from tests.browser.test_customer_edit_flow import TIMEOUT
from tests.browser.test_two_factor import local
from tests.factories import ContactFactory
from tests.helpers import CONTACT_PASSWORD

EMAIL = "pia@example.com"


def password_step(page: Page, base: str) -> None:
    page.goto(base + "/portal/login")
    page.get_by_label("E-mail", exact=True).fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(CONTACT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_contact_registers_a_passkey_and_signs_in_with_it_instead_of_a_code(live_server, page: Page):
    with live_server.app.app_context():
        ContactFactory(customer_id=live_server.customer_id, name="Pia Portal", email=EMAIL)
    base = local(live_server)
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True}})
    password_step(page, base)
    expect(page).to_have_url(base + "/portal/", timeout=TIMEOUT)
    page.get_by_role("link", name="My profile", exact=True).click()
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible(timeout=TIMEOUT)
    page.locator("input[name=passkey_name]").fill("Pia's phone")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_text("Passkey “Pia's phone” registered.")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_role("cell", name="Pia's phone")).to_be_visible()
    with live_server.app.app_context():  # an ENROL entry in the audit chain, without the key
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "ENROL"))
        assert entry is not None and json.loads(entry.data)["method"] == [None, "passkey"]
        assert "public_key" not in entry.data
        db.session.remove()

    page.get_by_role("button", name="Sign out").click()
    password_step(page, base)
    expect(page).to_have_url(base + "/portal/two-factor", timeout=TIMEOUT)
    page.goto(base + "/portal/invoices")  # half signed in: nothing but the second step
    expect(page).to_have_url(base + "/portal/two-factor", timeout=TIMEOUT)
    page.get_by_role("button", name="Use a passkey").click()
    expect(page).to_have_url(base + "/portal/", timeout=TIMEOUT)

    page.get_by_role("link", name="My profile", exact=True).click()
    page.get_by_role("row", name=re.compile("Pia's phone")).get_by_role("button", name="Remove").click()
    expect(page.get_by_text("Passkey “Pia's phone” removed.")).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("button", name="Sign out").click()
    password_step(page, base)
    expect(page).to_have_url(base + "/portal/", timeout=TIMEOUT)  # no second factor any more
