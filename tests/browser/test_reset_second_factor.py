"""The mailed reset link of someone with a second factor, in Chromium: a staff user proves it with a passkey
(the virtual authenticator) before the new password is accepted; a contact with an authenticator app types
a code the test computes, after a wrong one is refused."""
import os
import re

import pyotp
from playwright.sync_api import Page, expect

from panel.extensions import db
from tests.browser.test_customer_edit_flow import TIMEOUT
from tests.browser.test_two_factor import local, next_step_code, password_step
from tests.factories import ContactFactory
from tests.helpers import CONTACT_PASSWORD
from tests.mail_links import mailed

NEW = "a fresh long passphrase"


def _link(page: Page, base: str, forgot: str, email: str, kind: str) -> str:
    page.goto(base + forgot)
    page.get_by_label("E-mail", exact=True).fill(email)
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("status").filter(has_text="If that address belongs")).to_be_visible(timeout=TIMEOUT)
    body = mailed(os.environ["PANEL_INSTANCE_PATH"], email)[-1].get_content()
    return re.search(rf"(http://\S+{kind}set-password/\S+)", body).group(1)


def _new_password(page: Page) -> None:
    page.get_by_label("New password", exact=True).fill(NEW)
    page.get_by_label("Repeat the new password", exact=True).fill(NEW)
    page.get_by_role("button", name="Save password").click()


def test_a_staff_user_with_a_passkey_proves_it_on_the_reset_link(live_server, page: Page, monkeypatch):
    monkeypatch.setitem(live_server.app.config, "MAIL_SERVER", "")
    base = local(live_server)
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True}})
    password_step(page, base, live_server)
    page.goto(base + "/account/two-factor")
    page.locator("input[name=passkey_name]").fill("Desk key")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_text("Passkey “Desk key” registered.")).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("button", name="Sign out").click()

    link = _link(page, base, "/forgot-password", live_server.staff_email, "/")
    page.goto(link)
    expect(page.get_by_text("give your second factor")).to_be_visible(timeout=TIMEOUT)
    _new_password(page)  # no code, no passkey yet: refused
    expect(page.get_by_text("Enter a code from your authenticator app or a recovery code")).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("button", name="Use a passkey instead of the code").click()
    expect(page.get_by_text("Your passkey is accepted")).to_be_visible(timeout=TIMEOUT)
    _new_password(page)
    expect(page).to_have_url(base + "/login", timeout=TIMEOUT)
    expect(page.locator(".flashes")).to_contain_text("Your password is set", timeout=TIMEOUT)

    page.get_by_label("E-mail", exact=True).fill(live_server.staff_email)
    page.get_by_label("Password", exact=True).fill(NEW)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(base + "/login/second-factor", timeout=TIMEOUT)
    page.get_by_role("button", name="Use a passkey").click()
    expect(page).to_have_url(base + "/customers", timeout=TIMEOUT)


def test_a_contact_with_an_authenticator_app_gives_a_code_on_the_reset_link(live_server, page: Page, monkeypatch):
    monkeypatch.setitem(live_server.app.config, "MAIL_SERVER", "")
    email = "ada@example.com"
    with live_server.app.app_context():
        ContactFactory(customer_id=live_server.customer_id, name="Ada Lovelace", email=email)
        db.session.remove()
    base = live_server.url
    page.goto(base + "/portal/login")
    page.get_by_label("E-mail", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(CONTACT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(base + "/portal/", timeout=TIMEOUT)
    page.goto(base + "/portal/two-factor/setup")
    secret = page.locator("#manual-key").inner_text().strip()
    first = pyotp.TOTP(secret).now()
    page.get_by_label("First code").fill(first)
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.locator("ol.recovery-codes li")).to_have_count(10, timeout=TIMEOUT)
    page.get_by_role("link", name="Continue").click()
    page.get_by_role("button", name="Sign out").click()

    page.goto(_link(page, base, "/portal/forgot-password", email, "/portal/"))
    code_box = page.get_by_label("Code from your authenticator app, or a recovery code")
    code_box.fill("000000" if first != "000000" else "111111")
    _new_password(page)
    expect(page.get_by_text("That code is not right")).to_be_visible(timeout=TIMEOUT)
    code_box.fill(next_step_code(secret, first))
    _new_password(page)
    expect(page).to_have_url(base + "/portal/login", timeout=TIMEOUT)
    expect(page.locator(".flashes")).to_contain_text("Your password is set", timeout=TIMEOUT)
