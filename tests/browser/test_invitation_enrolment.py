"""An invitation whose role must use two-factor sign-in, in Chromium: the admin invites, the new user follows
the mailed link, chooses a password and is taken straight to enrolment; nothing else opens until the code
from the app (computed by the test from the key on the page) is confirmed."""
import os
import re

import pyotp
from playwright.sync_api import Page, expect

from panel import unit_of_work
from panel.options import set_option
from panel.twofactor import factors
from tests.browser.test_customer_edit_flow import TIMEOUT
from tests.factories import StaffUserFactory
from tests.helpers import PASSWORD
from tests.mail_links import mailed

NEW = "the invited person's passphrase"


def test_an_invited_user_chooses_a_password_and_enrols_before_anything_else(live_server, page: Page, monkeypatch):
    monkeypatch.setitem(live_server.app.config, "MAIL_SERVER", "")
    with live_server.app.app_context():
        StaffUserFactory(email="chief@example.com", role="admin")
        with unit_of_work.unit():
            set_option(factors.REQUIRE_OPTION, "staff")
    base = live_server.url
    # The admin must enrol too (everyone must): that part is tests/browser/test_two_factor.py's; here, quickly.
    page.goto(base + "/login")
    page.get_by_label("E-mail", exact=True).fill("chief@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(base + "/account/two-factor/app", timeout=TIMEOUT)
    page.get_by_label("First code").fill(pyotp.TOTP(page.locator("#manual-key").inner_text().strip()).now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    page.get_by_role("link", name="Continue").click()

    page.goto(base + "/settings/staff")
    page.get_by_label("E-mail", exact=True).fill("newbie@example.com")
    page.get_by_label("Name", exact=True).fill("New Bie")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".flashes")).to_contain_text("newbie@example.com is invited", timeout=TIMEOUT)
    page.get_by_role("button", name="Sign out").click()

    body = mailed(os.environ["PANEL_INSTANCE_PATH"], "newbie@example.com")[-1].get_content()
    page.goto(re.search(r"(http://\S+/set-password/\S+)", body).group(1))
    expect(page.get_by_role("heading", name="Welcome: choose your password")).to_be_visible(timeout=TIMEOUT)
    page.get_by_label("New password", exact=True).fill(NEW)
    page.get_by_label("Repeat the new password", exact=True).fill(NEW)
    page.get_by_role("button", name="Save password").click()
    expect(page).to_have_url(base + "/account/two-factor/app", timeout=TIMEOUT)
    expect(page.locator(".flashes")).to_contain_text("set it up now", timeout=TIMEOUT)
    page.goto(base + "/customers")
    expect(page).to_have_url(base + "/account/two-factor/app", timeout=TIMEOUT)  # nothing else first

    secret = page.locator("#manual-key").inner_text().strip()
    page.get_by_label("First code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.locator("ol.recovery-codes li")).to_have_count(10, timeout=TIMEOUT)
    page.get_by_role("link", name="Continue").click()
    expect(page).to_have_url(base + "/customers", timeout=TIMEOUT)
    expect(page.get_by_role("heading", name="Customers")).to_be_visible(timeout=TIMEOUT)
