"""A contact who forgot their portal password, in a real browser: "I forgot my password" on the sign-in
page, the link read from the mail in the outbox, a new password, and signing in with it."""
import os
import re

from playwright.sync_api import Page, expect

from panel.extensions import db
from tests.factories import ContactFactory
from tests.mail_links import mailed

TIMEOUT = 5_000  # ms
EMAIL = "grace@example.com"
NEW_PASSWORD = "a fresh portal passphrase"


def test_a_contact_resets_a_forgotten_password_through_the_mailed_link(live_server, page: Page, monkeypatch):
    monkeypatch.setitem(live_server.app.config, "MAIL_SERVER", "")  # mail goes to <instance>/outbox
    with live_server.app.app_context():
        ContactFactory(customer_id=live_server.customer_id, name="Grace Hopper", email=EMAIL)
        db.session.remove()

    page.goto(live_server.url + "/portal/login")
    page.get_by_role("link", name="I forgot my password").click()
    expect(page).to_have_url(live_server.url + "/portal/forgot-password", timeout=TIMEOUT)
    page.get_by_label("E-mail", exact=True).fill(EMAIL)
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("status").filter(has_text="If that address belongs to an account")).to_be_visible(timeout=TIMEOUT)

    messages = mailed(os.environ["PANEL_INSTANCE_PATH"], EMAIL)
    assert len(messages) == 1, messages
    link = re.search(r"(http://\S+/portal/set-password/\S+)", messages[0].get_content()).group(1)
    assert link.startswith(live_server.url)

    page.goto(link)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible(timeout=TIMEOUT)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat the new password", exact=True).fill("something else entirely")
    page.get_by_role("button", name="Save password").click()
    expect(page.get_by_text("The two passwords are not the same.")).to_be_visible(timeout=TIMEOUT)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat the new password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save password").click()

    expect(page).to_have_url(live_server.url + "/portal/login", timeout=TIMEOUT)
    expect(page.locator(".flashes")).to_contain_text("Your password is set", timeout=TIMEOUT)
    page.get_by_label("E-mail", exact=True).fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live_server.url + "/portal/", timeout=TIMEOUT)

    # The link worked once.
    page.goto(link)
    expect(page.get_by_role("alert").filter(has_text="expired or has already been used")).to_be_visible(timeout=TIMEOUT)
