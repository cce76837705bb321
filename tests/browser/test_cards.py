"""Stored cards in Chromium through localstripe's stand-in stripe.js: a card typed into the card element is
saved and listed; a card the processor declines shows the processor's message and is not saved. No processor
id or key ever appears in the page."""
import re

from playwright.sync_api import Page, expect

from tests.browser.test_customer_edit_flow import open_signed_in
from tests.cards.conftest import PROCESSOR_SECRET, localstripe  # noqa: F401 - the session's localstripe fixture

TIMEOUT = 10_000  # ms


def _type_card(page: Page, number: str) -> None:
    """The stand-in card element's five inputs (it prefixes the two-digit year with 20)."""
    element = page.locator("[data-card-element]")
    element.locator("input[placeholder=number]").fill(number)
    element.locator("input[placeholder=exp_month]").fill("11")
    element.locator("input[placeholder=exp_year]").fill("31")
    element.locator("input[placeholder=cvc]").fill("123")
    element.locator("input[placeholder=postal_code]").fill("10001")


def _open_add_card(live_server, page: Page, localstripe) -> str:  # noqa: F811
    live_server.app.config.update(localstripe.settings())
    cards = f"/customers/{live_server.customer_id}/cards"
    open_signed_in(page, live_server, cards)
    expect(page.get_by_test_id("cards-test-mode")).to_contain_text("Test mode")
    expect(page.get_by_test_id("no-cards")).to_be_visible()
    page.get_by_role("link", name="Add card").click()
    expect(page.locator("[data-card-element] input[placeholder=number]")).to_be_visible(timeout=TIMEOUT)
    return cards


def test_a_card_typed_into_the_card_element_is_saved_and_listed(live_server, localstripe, page: Page):  # noqa: F811
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    cards = _open_add_card(live_server, page, localstripe)
    _type_card(page, "4242424242424242")
    page.get_by_role("button", name="Save card").click()
    expect(page).to_have_url(live_server.url + cards, timeout=TIMEOUT)
    expect(page.locator(".flash")).to_contain_text("Visa ending 4242 is saved as the default card")
    row = page.get_by_test_id("stored-card")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("•••• 4242")
    expect(row).to_contain_text("11/2031")
    expect(row).to_contain_text("Default")
    assert not PROCESSOR_SECRET.search(page.content())
    assert errors == []


def test_a_declined_card_shows_the_processors_message_and_is_not_saved(live_server, localstripe, page: Page):  # noqa: F811
    cards = _open_add_card(live_server, page, localstripe)
    _type_card(page, "4000000000000002")
    page.get_by_role("button", name="Save card").click()
    expect(page.locator("[data-card-error]")).to_have_text("Your card was declined.", timeout=TIMEOUT)
    expect(page.get_by_role("button", name="Save card")).to_be_enabled()
    assert re.search(r"/cards/new$", page.url)
    assert not PROCESSOR_SECRET.search(page.content())
    page.goto(live_server.url + cards)
    expect(page.get_by_test_id("no-cards")).to_be_visible()
