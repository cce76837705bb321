"""Two-factor sign-in in Chromium: TOTP enrolment with the key read from the page and sign-in with a code
the test computes; a passkey registered and used through Chromium's virtual authenticator."""
import re
import time

import pyotp
from playwright.sync_api import Page, expect

from tests.browser.test_customer_edit_flow import TIMEOUT


def local(server) -> str:
    """The server by the name `localhost`: a secure context for WebAuthn, and the relying-party id."""
    return server.url.replace("127.0.0.1", "localhost")


def password_step(page: Page, base: str, server) -> None:
    page.goto(base + "/login")
    page.locator("input[name=email]").fill(server.staff_email)
    page.locator("input[name=password]").fill(server.password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def next_step_code(secret: str, used: str) -> str:
    """A code other than the one just used (a code is accepted once): wait for the next 30 s step."""
    totp = pyotp.TOTP(secret)
    code = totp.now()
    while code == used:
        time.sleep(0.5)
        code = totp.now()
    return code


def test_totp_enrolment_and_sign_in_with_a_code(live_server, page: Page):
    base = local(live_server)
    password_step(page, base, live_server)
    expect(page).to_have_url(base + "/customers", timeout=TIMEOUT)
    page.get_by_role("link", name="Two-factor").click()
    page.get_by_role("link", name="Set up an authenticator app").click()
    expect(page.locator("figure.qr svg")).to_be_visible(timeout=TIMEOUT)
    secret = page.locator("#manual-key").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    first = pyotp.TOTP(secret).now()
    page.get_by_label("First code").fill(first)
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("heading", name="Two-factor sign-in is on")).to_be_visible(timeout=TIMEOUT)
    expect(page.locator("ol.recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name="Continue").click()
    expect(page.get_by_text("On.")).to_be_visible(timeout=TIMEOUT)
    assert secret not in page.content()

    page.get_by_role("button", name="Sign out").click()
    password_step(page, base, live_server)
    expect(page).to_have_url(base + "/login/second-factor", timeout=TIMEOUT)
    page.goto(base + "/customers")  # half signed in: no page but the second factor
    expect(page).to_have_url(base + "/login/second-factor", timeout=TIMEOUT)
    page.get_by_label("Code").fill(next_step_code(secret, first))
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(base + "/customers", timeout=TIMEOUT)
    expect(page.get_by_role("heading", name="Customers")).to_be_visible(timeout=TIMEOUT)


def test_a_passkey_is_registered_and_then_signs_in_without_the_password(live_server, page: Page):
    base = local(live_server)
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True}})
    password_step(page, base, live_server)
    expect(page).to_have_url(base + "/customers", timeout=TIMEOUT)
    page.goto(base + "/account/two-factor")
    page.get_by_label("Name").fill("Test laptop")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("cell", name="Test laptop")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("Passkey “Test laptop” registered.")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login"), timeout=TIMEOUT)
    page.get_by_role("button", name="Use a passkey").click()  # no e-mail, no password
    expect(page).to_have_url(base + "/customers", timeout=TIMEOUT)
    expect(page.get_by_role("heading", name="Customers")).to_be_visible(timeout=TIMEOUT)

    # With a passkey enrolled, the password alone now leads to the second step, where it serves too.
    page.get_by_role("button", name="Sign out").click()
    password_step(page, base, live_server)
    expect(page).to_have_url(base + "/login/second-factor", timeout=TIMEOUT)
    page.get_by_role("button", name="Use a passkey").click()
    expect(page).to_have_url(base + "/customers", timeout=TIMEOUT)

    page.goto(base + "/account/two-factor")
    page.get_by_role("button", name="Remove").click()
    expect(page.get_by_text("Passkey “Test laptop” removed.")).to_be_visible(timeout=TIMEOUT)
