"""Paying a Store order by card in Chromium through localstripe's stand-in stripe.js: a Billing contact with a
cart checks out by Credit Card with a new card typed into the card element and sees the order paid (the
credits in the ledger once); a card the processor declines shows the decline and orders nothing."""
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from panel.extensions import db
from panel.store.models import CartLine, Order
from panel.support.models import CreditTransaction
from tests.browser.test_cards import _type_card
from tests.browser.test_portal import portal_sign_in
from tests.cards.conftest import PROCESSOR_SECRET, localstripe  # noqa: F401 - the session's localstripe fixture
from tests.helpers import CONTACT_PASSWORD
from tests.store.factories import shop

TIMEOUT = 10_000  # ms


def _checkout(live_server, page: Page, localstripe) -> dict:  # noqa: F811
    app = live_server.app
    app.config.update(localstripe.settings())
    with app.app_context():
        ids = shop(contact_type="Billing", email="card.buyer@acme.example")
        for line in db.session.scalars(sa.select(CartLine).where(CartLine.id != ids["lines"]["credits"])):
            db.session.delete(line)  # a cart of 2 × 5 support credits
        db.session.commit()
        db.session.remove()
    page.goto(live_server.url + "/portal/login")
    portal_sign_in(page, live_server, ids["email"], CONTACT_PASSWORD)
    page.goto(live_server.url + "/portal/store/checkout")
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("radio", name="Credit Card").check()
    expect(page.get_by_test_id("cards-test-mode")).to_contain_text("Test mode")
    expect(page.get_by_text("Choose card")).to_be_visible()
    expect(page.get_by_label("A new card")).to_be_checked()
    expect(page.get_by_label("Save credit card")).to_be_checked()
    expect(page.locator("[data-card-element] input[placeholder=number]")).to_be_visible(timeout=TIMEOUT)
    page.locator("input[name=terms]").check()
    return ids


def _orders(app, customer_id: int) -> list:
    with app.app_context():
        found = [(o.number, o.status) for o in db.session.scalars(sa.select(Order).where(Order.customer_id == customer_id))]
        db.session.remove()
        return found


def test_a_billing_contact_pays_by_a_new_card_and_sees_the_order_paid(live_server, localstripe, page: Page):  # noqa: F811
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    ids = _checkout(live_server, page, localstripe)
    _type_card(page, "4242424242424242")
    page.get_by_role("button", name="Process Order").click()
    expect(page.get_by_role("heading", name="Order O-")).to_be_visible(timeout=TIMEOUT)
    expect(page.locator("main")).to_contain_text("Fulfilled")
    expect(page.locator("main")).to_contain_text("Credit card")
    assert not PROCESSOR_SECRET.search(page.content())
    [(number, status)] = _orders(live_server.app, ids["customer_id"])
    assert status == "Fulfilled"
    with live_server.app.app_context():
        credits = db.session.scalars(sa.select(CreditTransaction.credits).where(CreditTransaction.reference == number)).all()
        assert len(credits) == 1 and credits[0] == 10
    assert errors == []


def test_a_declined_card_shows_the_decline_and_orders_nothing(live_server, localstripe, page: Page):  # noqa: F811
    ids = _checkout(live_server, page, localstripe)
    _type_card(page, "4000000000000002")
    page.get_by_role("button", name="Process Order").click()
    expect(page.locator("[data-card-pay] [data-card-error]")).to_have_text("Your card was declined.", timeout=TIMEOUT)
    expect(page.get_by_role("button", name="Process Order")).to_be_enabled()
    assert page.url.endswith("/portal/store/checkout")
    assert _orders(live_server.app, ids["customer_id"]) == []
