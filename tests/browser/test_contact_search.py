"""Global Contacts search in Chromium: a word lists the contacts whose name holds it, and the hint above the list
switches to the e-mail addresses and back in place, with a URL for each that the back button returns to."""
from playwright.sync_api import Page, expect

from panel import unit_of_work
from tests.browser.test_customer_edit_flow import sign_in
from tests.factories import ContactFactory, CustomerFactory

TIMEOUT = 5_000  # ms


def test_a_word_searches_names_and_the_hint_switches_to_addresses(live_server, page: Page):
    with live_server.app.app_context(), unit_of_work.unit():
        customer = CustomerFactory().id
        ContactFactory(customer_id=customer, name="Ines Ito", email="ines@acme.example")
        ContactFactory(customer_id=customer, name="Ana Lopez", email="ito.fan@acme.example")
        ContactFactory(customer_id=customer, name="Bo Brown", email="bo@acme.example")
    page.goto(f"{live_server.url}/contacts")
    sign_in(page, live_server, "/contacts")
    page.get_by_role("searchbox", name="Search").fill("ito")
    expect(page.locator("#results .search-scope")).to_contain_text("Contacts whose name holds “ito”.", timeout=TIMEOUT)
    expect(page.locator("#results tbody tr")).to_have_count(1)
    expect(page.locator("#results tbody")).to_contain_text("Ines Ito")

    page.get_by_role("link", name="Look for it in e-mail addresses instead").click()
    expect(page.locator("#results .search-scope")).to_contain_text("e-mail address holds “ito”", timeout=TIMEOUT)
    expect(page.locator("#results tbody tr")).to_have_count(1)
    expect(page.locator("#results tbody")).to_contain_text("Ana Lopez")
    assert "in=emails" in page.url and "q=ito" in page.url
    emails_url = page.url

    page.go_back()
    expect(page.locator("#results .search-scope")).to_contain_text("name holds “ito”", timeout=TIMEOUT)
    expect(page.locator("#results tbody")).to_contain_text("Ines Ito")

    page.goto(emails_url)  # a bookmark of the address search opens it again
    expect(page.locator("#results tbody")).to_contain_text("Ana Lopez", timeout=TIMEOUT)
    page.get_by_role("searchbox", name="Search").fill("brown")  # new text: names again
    expect(page.locator("#results .search-scope")).to_contain_text("name holds “brown”", timeout=TIMEOUT)
    expect(page.locator("#results tbody")).to_contain_text("Bo Brown")
    assert "in=emails" not in page.url


def test_a_word_with_a_dot_lists_the_addresses_starting_with_it_and_the_hint_widens_to_anywhere(live_server, page: Page):
    with live_server.app.app_context(), unit_of_work.unit():
        customer = CustomerFactory().id
        ContactFactory(customer_id=customer, name="Ines Ito", email="ines.ito@acme.example")
        ContactFactory(customer_id=customer, name="Mai Nes", email="maines.ito@acme.example")
    page.goto(f"{live_server.url}/contacts")
    sign_in(page, live_server, "/contacts")
    page.get_by_role("searchbox", name="Search").fill("ines.ito")
    expect(page.locator("#results .search-scope")).to_contain_text("address or its domain starts with “ines.ito”",
                                                                    timeout=TIMEOUT)
    expect(page.locator("#results tbody tr")).to_have_count(1)
    expect(page.locator("#results tbody")).to_contain_text("Ines Ito")

    page.get_by_role("link", name="Look for it anywhere in e-mail addresses").click()
    expect(page.locator("#results tbody tr")).to_have_count(2, timeout=TIMEOUT)
    expect(page.locator("#results tbody")).to_contain_text("Mai Nes")
    assert "in=emails" in page.url
    page.get_by_role("link", name="Look for it at the start of addresses instead").click()
    expect(page.locator("#results tbody tr")).to_have_count(1, timeout=TIMEOUT)
    page.go_back()
    expect(page.locator("#results tbody tr")).to_have_count(2, timeout=TIMEOUT)
