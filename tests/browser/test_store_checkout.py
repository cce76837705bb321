"""The Store's walk-through in Chromium (reference 001): an Admin contact with a cart (made by factories)
checks out with a deployment (Apply to All) and an organisation, shipping, wire transfer, a PO number and
the terms, and lands on the order Awaiting payment; a quote is saved and converted later; then staff
record the wire payment and the credits appear in the ledger once."""
import re

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from panel.extensions import db
from panel.options import set_option
from panel.store.models import Order
from panel.support.models import CreditTransaction
from tests.browser.test_customer_edit_flow import sign_in
from tests.browser.test_portal import portal_sign_in
from tests.factories import CustomerFactory
from tests.helpers import CONTACT_PASSWORD
from tests.store.factories import CartLineFactory, ShippingRateFactory, shop

TIMEOUT = 5_000  # ms


def test_checkout_quote_and_a_recorded_wire_payment_end_to_end(live_server, page: Page):
    app = live_server.app
    with app.app_context():
        ids = shop(contact_type="Admin", email="admin.buyer@acme.example")
        child = CustomerFactory(name="Branch Office", reseller_id=ids["customer_id"]).id
        ShippingRateFactory(name="Express", amount="40.00", position=1)
        set_option("store_wire_instructions", "Pay to IBAN XX00 TEST 0000")
        db.session.commit()
        lines = ids["lines"]
        db.session.remove()

    page.goto(live_server.url + "/portal/login")
    portal_sign_in(page, live_server, ids["email"], CONTACT_PASSWORD)
    page.goto(live_server.url + "/portal/store/checkout")
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible(timeout=TIMEOUT)

    # The plan's picker: search, pick, then Apply to All puts it on the licence's line too.
    box = page.locator(f"#deployment-{lines['plan']}-query")
    box.fill("Head")
    page.locator(f"#deployment-{lines['plan']}-matches [data-pick]").first.click()
    expect(box).to_have_value(re.compile(r"^D-\d+ · Head office PBX$"), timeout=TIMEOUT)
    page.locator(f"tr:has(#deployment-{lines['plan']}-query) [data-apply-all]").click()
    expect(page.locator(f"#deployment-{lines['licence']}-query")).to_have_value(re.compile("Head office PBX"))
    expect(page.locator(f"input[name=deployment-{lines['licence']}]")).to_have_value(str(ids["deployment_id"]))

    # The credits go to the branch: filter the organisations, choose it.
    org = page.locator(f"[data-org-choice]:has(#organisation-{lines['credits']})")
    org.locator("[data-org-filter]").fill("Branch")
    page.locator(f"#organisation-{lines['credits']}").select_option(str(child))

    # Shipping: the billing address is there; another rate changes the total in place.
    expect(page.locator("#shipping_address")).to_have_value(re.compile("1 Main St"))
    expect(page.get_by_test_id("checkout-total")).to_contain_text("1,390.00 USD")
    page.locator("#shipping_rate_id").select_option(label="Express — 40.00 USD")
    expect(page.get_by_test_id("checkout-total")).to_contain_text("1,415.00 USD", timeout=TIMEOUT)

    page.get_by_label("Wire Transfer").check()
    expect(page.locator("[data-instructions-for=wire]")).to_contain_text("IBAN XX00 TEST 0000")
    expect(page.locator("[data-instructions-for=cheque]")).to_be_hidden()
    page.locator("input[name=has_po][value=yes]").check()
    page.get_by_label("Reference or PO number").fill("PO-2026-17")
    page.get_by_role("button", name="Process Order").click()
    # The terms were not ticked: refused by the field, everything kept.
    expect(page.get_by_text("Tick the box to agree to the Terms and Conditions.")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_label("Reference or PO number")).to_have_value("PO-2026-17")
    page.locator("input[name=terms]").check()
    page.get_by_role("button", name="Process Order").click()

    expect(page).to_have_url(re.compile(r"/portal/orders/O-\d+$"), timeout=TIMEOUT)
    expect(page.get_by_test_id("order-status")).to_have_text("Awaiting payment")
    expect(page.get_by_test_id("po-number")).to_have_text("PO-2026-17")
    expect(page.get_by_test_id("order-total")).to_have_text("1,415.00 USD")
    expect(page.locator("main")).to_contain_text("Branch Office")
    order_number = page.url.rsplit("/", 1)[1]

    # A quote, saved now and converted later from Orders › Quotes.
    with app.app_context():
        CartLineFactory(cart_id=ids["cart_id"], product_id=ids["products"]["credits"], quantity=1)
        db.session.remove()
    page.goto(live_server.url + "/portal/store/checkout")
    page.get_by_label(re.compile("Save as a Quote")).check()
    page.locator("input[name=terms]").check()
    page.get_by_role("button", name="Process Order").click()
    expect(page).to_have_url(re.compile(r"/portal/orders/Q-\d+$"), timeout=TIMEOUT)
    page.get_by_role("link", name="Orders › Quotes").first.click()
    page.get_by_role("link", name=re.compile(r"^Q-\d+$")).click()
    quote = page.locator("#quote-actions")
    quote.get_by_label("Check").check()
    quote.locator("input[name=terms]").check()
    quote.get_by_role("button", name="Convert to order").click()
    expect(page).to_have_url(re.compile(r"/portal/orders/O-\d+$"), timeout=TIMEOUT)
    expect(page.get_by_test_id("order-status")).to_have_text("Awaiting payment")

    # Staff record the wire payment of the first order: it is paid and fulfilled, the credits in the ledger.
    staff = page.context.browser.new_page()
    try:
        staff.goto(live_server.url + f"/orders/{order_number}")
        sign_in(staff, live_server, f"/orders/{order_number}")
        staff.get_by_label("Reference", exact=True).fill("WIRE-777")
        staff.get_by_role("button", name="Record payment").click()
        expect(staff.get_by_test_id("order-status")).to_have_text("Fulfilled", timeout=TIMEOUT)
        staff.goto(live_server.url + f"/customers/{child}/support-credits")
        expect(staff.locator("main")).to_contain_text(order_number, timeout=TIMEOUT)
    finally:
        staff.close()
    with app.app_context():
        purchases = db.session.scalars(sa.select(CreditTransaction)).all()
        assert [(p.customer_id, p.reference, p.credits) for p in purchases] == [(child, order_number, 10)]
        assert db.session.scalar(sa.select(Order.status).where(Order.number == order_number)) == "Fulfilled"
        db.session.remove()
