"""Forms and lists that explain themselves, in Chromium: the password rule beside the field before any failure
and a forced-change page without links that bounce back; a new contact's type chosen deliberately with its
meaning beside it and the "Mail goes to" table; the two ways to add a customer; the Settings index; the
Summary's bar in view while cells are selected; a verified tag on one line at 800 px."""
import re

from playwright.sync_api import Page, expect

from panel.actor import SYSTEM
from panel.contacts.records import create_contact
from panel.extensions import db
from panel.passwords import RULE
from tests.browser.test_contacts_inline import open_main_tab
from tests.browser.test_customer_edit_flow import open_signed_in
from tests.factories import ContactFactory, StaffUserFactory
from tests.helpers import temporary_password

TIMEOUT = 5_000


def test_forced_change_shows_the_rule_and_only_sign_out(live_server, page: Page):
    with live_server.app.app_context():
        _, message = create_contact(SYSTEM, live_server.customer_id, {"name": "Cy New", "email": "cy@example.com",
                                                                      "contact_type": "Billing"})
        db.session.commit()
        temporary = temporary_password(message.body)
        db.session.remove()
    page.goto(live_server.url + "/portal/login")
    page.get_by_label("E-mail", exact=True).fill("cy@example.com")
    page.get_by_label("Password", exact=True).fill(temporary)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live_server.url + "/portal/password", timeout=TIMEOUT)
    new = page.get_by_label("New password", exact=True)
    expect(new).to_have_accessible_description(RULE)
    expect(page.get_by_text(RULE)).to_be_visible()
    expect(page.locator("header.portal-bar nav")).to_have_count(0)
    expect(page.locator("header.portal-bar a")).to_have_count(0)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_a_new_contacts_type_is_chosen_and_the_main_tab_says_who_receives_what(live_server, page: Page):
    open_main_tab(page, live_server)
    contacts = page.locator("#contacts")
    expect(contacts.locator(".mail-routes")).to_contain_text("Mail goes to")
    page.get_by_role("button", name="Add contact").click()
    form = page.locator("#new-contact")
    kind = form.get_by_label("Contact Type")
    expect(kind).to_have_value("")
    expect(kind).to_have_accessible_description(re.compile(r"^Billing: invoices, payment receipts, balance alerts\."))
    form.get_by_label("Auto Generate Password").uncheck()
    expect(form.get_by_label("Password", exact=True)).to_have_accessible_description(RULE)
    form.get_by_label("Auto Generate Password").check()
    form.locator("input[name=name]").fill("Bea Billing")
    form.locator("input[name=email]").fill("bea@example.com")
    form.get_by_role("button", name="Save and Continue").click()
    expect(form.locator(".field.has-error .error")).to_have_text(["Choose the contact's type: it decides which mail they receive."],
                                                                 timeout=TIMEOUT)
    expect(form.locator("input[name=email]")).to_have_value("bea@example.com")
    kind.select_option("Billing")
    form.get_by_role("button", name="Save and Continue").click()
    expect(contacts.locator(".notice")).to_contain_text("Contact Bea Billing added.", timeout=TIMEOUT)
    invoices_row = contacts.locator(".mail-routes tr", has_text="Invoices, payment receipts, balance alerts")
    expect(invoices_row).to_contain_text("Bea Billing")
    expect(contacts.locator(".mail-routes tr", has_text="Issue reports")).to_contain_text("nobody")


def test_the_two_ways_to_add_a_customer_and_the_settings_index(live_server, page: Page):
    open_signed_in(page, live_server, "/customers")
    expect(page.get_by_role("link", name="+ Quick add")).to_be_visible()
    expect(page.get_by_role("link", name="+ New customer, step by step")).to_be_visible()
    page.get_by_role("link", name="+ Quick add").click()
    expect(page.get_by_role("heading", name="Quick add a customer")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_label("Channel limit")).to_have_value("10")
    with live_server.app.app_context():
        StaffUserFactory(role="admin", email="admin@example.com")
        db.session.remove()
    page.context.clear_cookies()
    page.goto(live_server.url + "/settings/")
    expect(page).to_have_url(re.compile(r"/login(\?|$)"), timeout=TIMEOUT)
    page.locator("input[name=email]").fill("admin@example.com")
    page.locator("input[name=password]").fill(live_server.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live_server.url + "/settings/", timeout=TIMEOUT)
    page.goto(live_server.url + "/customers")
    page.locator("header nav").get_by_role("link", name="Settings").click()
    expect(page).to_have_url(live_server.url + "/settings/", timeout=TIMEOUT)
    for label in ("Options", "API tokens", "Staff users", "Two-factor sign-in", "IP allow-list"):
        expect(page.locator(".settings-index").get_by_role("link", name=label)).to_be_visible()
    page.locator(".settings-index").get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", name="API tokens")).to_be_visible(timeout=TIMEOUT)


def test_the_summary_bar_stays_in_view_and_a_verified_tag_stays_on_one_line(live_server, page: Page):
    with live_server.app.app_context():
        ContactFactory(customer_id=live_server.customer_id, name="Vera Verified", email="vera@example.com",
                       contact_type="Technical", email_verified=True, mobile_verified=True)
        db.session.remove()
    page.set_viewport_size({"width": 800, "height": 500})
    open_main_tab(page, live_server)
    tag = page.locator("#contacts .tag.verified", has_text="mail").first
    expect(tag).to_be_visible(timeout=TIMEOUT)
    height = tag.evaluate("t => t.getBoundingClientRect().height")
    line = tag.evaluate("t => parseFloat(getComputedStyle(t).lineHeight) || parseFloat(getComputedStyle(t).fontSize) * 1.45")
    assert height < line * 1.5, (height, line)  # one line, not "e-" over "mail"

    grid = page.locator("#summary-grid")
    expect(grid).to_be_visible(timeout=TIMEOUT)
    grid.locator("tbody tr").first.locator("td.num").first.click()
    bar = page.locator("#summary-bar")
    expect(bar.get_by_text("Sum")).to_be_visible()
    grid.locator("tbody tr").first.scroll_into_view_if_needed()
    page.evaluate("document.querySelector('#summary-grid tbody tr').scrollIntoView({block: 'start'})")
    box = bar.bounding_box()
    viewport = page.viewport_size
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"] + 1, (box, viewport)
