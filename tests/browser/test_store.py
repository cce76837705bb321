"""The portal Store in Chromium, as a contact would use it (reference 001): open the Store from the menu, land on
Hourly Support, add 2 of an item with the quantity's arrows, change a quantity in the cart, remove a line, and
the subtotal follows each step, updated in place; at 1400 px and on a 375 px phone, with axe's check."""
import re

import pytest
from playwright.sync_api import Page, expect

from panel.extensions import db
from panel.seed import seed_store
from tests.browser.test_accessibility import axe_problems, no_sideways_scroll, with_axe
from tests.factories import ContactFactory
from tests.helpers import CONTACT_PASSWORD

TIMEOUT = 5_000  # ms
EMAIL = "bea.billing@example.com"


@pytest.fixture
def shop(live_server):
    with live_server.app.app_context():
        ContactFactory(customer_id=live_server.customer_id, name="Bea Billing", email=EMAIL, contact_type="Billing")
        seed_store()
        db.session.remove()


@pytest.mark.parametrize("width", [1400, 375])
def test_a_contact_fills_the_cart_and_the_subtotal_follows(live_server, shop, page: Page, width):
    page.set_viewport_size({"width": width, "height": 900})
    with_axe(page)
    page.goto(live_server.url + "/portal/login")
    page.locator("input[name=email]").fill(EMAIL)
    page.locator("input[name=password]").fill(CONTACT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live_server.url + "/portal/", timeout=TIMEOUT)

    page.get_by_role("link", name="Store", exact=True).click()
    expect(page.get_by_role("heading", name="Hourly Support")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_role("navigation", name="Store tabs").get_by_role("link", name="Support", exact=True)) \
        .to_have_attribute("aria-current", "page")
    cart = page.locator("#cart")
    expect(cart).to_contain_text("Your cart is empty")
    problems = axe_problems(page, f"Store at {width} px")

    five = page.locator(".store-item", has=page.get_by_role("link", name="5 Hours of Support"))
    quantity = five.get_by_label("Quantity")
    expect(quantity).to_have_value("1")
    quantity.press("ArrowUp")  # the input's own up arrow
    expect(quantity).to_have_value("2")
    five.get_by_role("button", name="Add to cart").click()
    expect(five).to_contain_text("Added to your cart", timeout=TIMEOUT)
    expect(cart).to_contain_text("5 Hours of Support")
    expect(page.locator("#cart-subtotal")).to_have_text("1,400.00 USD")

    one = page.locator(".store-item", has=page.get_by_role("link", name="1 Hour of Support"))
    one.get_by_role("button", name="Add to cart").click()
    expect(page.locator("#cart-subtotal")).to_have_text("1,550.00 USD", timeout=TIMEOUT)
    problems += axe_problems(page, f"Store with a cart at {width} px")

    line = cart.get_by_label("Quantity of 5 Hours of Support")
    expect(line).to_have_value("2")
    line.fill("3")
    line.press("Enter")
    expect(page.locator("#cart-subtotal")).to_have_text("2,250.00 USD", timeout=TIMEOUT)
    expect(cart.get_by_label("Quantity of 5 Hours of Support")).to_have_value("3")

    cart.get_by_role("button", name=re.compile(r"Remove\s+1 Hour of Support")).click()
    expect(cart).not_to_contain_text("1 Hour of Support", timeout=TIMEOUT)
    expect(page.locator("#cart-subtotal")).to_have_text("2,100.00 USD")
    expect(cart.get_by_role("link", name="Checkout")).to_have_attribute("href", "/portal/store/checkout")

    # The cart is the server's: it is there again on a fresh load.
    page.reload()
    expect(page.locator("#cart-subtotal")).to_have_text("2,100.00 USD", timeout=TIMEOUT)
    problems += no_sideways_scroll(page, f"Store at {width} px")
    assert not problems, "\n".join(problems)
