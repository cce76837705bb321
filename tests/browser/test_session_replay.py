"""A cookie copied from a signed-in browser is worthless once its owner signs out: a new browser
context holding the copy gets the sign-in page."""
import re

from playwright.sync_api import Browser, Page, expect

from tests.browser.test_customer_edit_flow import sign_in

TIMEOUT = 5_000  # ms


def test_a_copied_cookie_gets_the_sign_in_page_after_sign_out(live_server, page: Page, browser: Browser):
    page.goto(live_server.url + "/customers")
    sign_in(page, live_server, "/customers")
    copied = [c for c in page.context.cookies() if c["name"] == "session"]
    assert copied and copied[0]["httpOnly"]

    other = browser.new_context()
    try:
        other.add_cookies(copied)
        thief = other.new_page()
        thief.goto(live_server.url + "/customers")
        expect(thief).to_have_url(live_server.url + "/customers", timeout=TIMEOUT)  # the copy works while it lasts

        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(re.compile(r"/login$"), timeout=TIMEOUT)

        thief.goto(live_server.url + "/customers")
        expect(thief).to_have_url(re.compile(r"/login\?next="), timeout=TIMEOUT)
        expect(thief.get_by_role("button", name="Sign in")).to_be_visible(timeout=TIMEOUT)
    finally:
        other.close()
