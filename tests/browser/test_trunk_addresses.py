"""Trunk addresses in a real browser: staff add an address on the Main tab (a bad one is explained by its field
and stays typed), the list shows it in its canonical form, and Remove asks first."""
import re

from playwright.sync_api import Page, expect

from tests.browser.test_customer_edit_flow import open_signed_in

TIMEOUT = 5_000  # ms


def test_staff_add_and_remove_a_trunk_address_on_the_main_tab(live_server, page: Page):
    main = f"/customers/{live_server.customer_id}"
    open_signed_in(page, live_server, main)
    section = page.locator("#trunk-addresses")
    expect(section.get_by_role("heading", name="Add a trunk address")).to_be_visible(timeout=TIMEOUT)
    expect(section).to_contain_text("No trunk addresses")

    address = section.get_by_label("Address or range")
    address.fill("203.0.113.7/24")
    section.get_by_role("button", name="Add trunk address").click()
    expect(section.locator(".error")).to_contain_text("the range is 203.0.113.0/24", timeout=TIMEOUT)
    expect(section.get_by_label("Address or range")).to_have_value("203.0.113.7/24")

    section.get_by_label("Address or range").fill("203.0.113.0/24")
    section.get_by_label("Label").fill("SBC Frankfurt")
    section.get_by_role("button", name="Add trunk address").click()
    expect(section.locator(".notice")).to_contain_text("Trunk address 203.0.113.0/24 added.", timeout=TIMEOUT)
    row = section.locator("table.trunk-addresses tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("SBC Frankfurt")

    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    row.get_by_role("button", name="Remove").click()
    expect(section.locator(".notice")).to_contain_text("Trunk address 203.0.113.0/24 removed.", timeout=TIMEOUT)
    expect(section.locator("table.trunk-addresses")).to_have_count(0)
    assert asked and re.search(r"Remove trunk address 203\.0\.113\.0/24\?", asked[0])
