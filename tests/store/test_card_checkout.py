"""Paying an order by card at checkout, against localstripe: a saved card, a new card saved on the way, a decline
that leaves the order awaiting payment with the processor's message and a Retry that pays it, a second press that
charges nothing more, the worker paying an order whose charge outcome was unknown, and staff's Cancel refunding
the card. The payment is the same Completed, allocated payment staff record for a wire: the order is paid and
fulfilled once."""
from datetime import timedelta
import re

import pytest
import sqlalchemy as sa
import stripe

from panel import unit_of_work, worker
from panel.actor import SYSTEM
from panel.cards import cards
from panel.cards.models import CardCharge, StoredCard
from panel.customers.models import Customer
from panel.deployments.models import Deployment
from panel.extensions import db
from panel.invoices.models import Invoice, Payment
from panel.store import payment
from panel.store.models import Cart, CartLine, Order
from panel.support.models import CreditTransaction
from panel.types import utcnow
from tests.cards.conftest import PROCESSOR_SECRET, cards_app, confirm_setup, localstripe  # noqa: F401 (fixtures)
from tests.store.factories import shop
from tests.store.test_checkout_routes import form_of, token_of

GOOD = "4242424242424242"
DECLINED = "4000000000000002"


@pytest.fixture
def buyer(cards_app, portal_client):
    with cards_app.app_context():
        ids = shop()
    return ids, portal_client(ids["email"])


def _saved_card(app, customer_id: int) -> int:
    with app.app_context():
        customer = db.session.get(Customer, customer_id)
        intent = cards.start_adding(SYSTEM, customer)
        card = cards.add_from_setup_intent(SYSTEM, customer, confirm_setup(app.config["STRIPE_API_BASE"], intent.id))
        unit_of_work.commit()
        return card.id


def _checkout_intents(token: str) -> str:
    return f"/portal/store/checkout/setup-intent?token={token}"


def _order_intents(number: str) -> str:
    return f"/portal/orders/{number}/setup-intent"


def _new_card(app, client, url: str, number: str = GOOD) -> str:
    """What static/cards.js does: ask the panel for this payment's SetupIntent (`url`: the one the page names),
    confirm it with the card typed (stripe.js)."""
    answer = client.post(url, {}, headers={"Accept": "application/json"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    intent_id = answer.get_json()["client_secret"].split("_secret_")[0]
    try:
        confirm_setup(app.config["STRIPE_API_BASE"], intent_id, number)
    except stripe.CardError:
        pass  # declined in the card element; a form posted anyway gets the processor's refusal
    return intent_id


def _order(app, number: str) -> dict:
    with app.app_context():
        order = db.session.scalar(sa.select(Order).where(Order.number == number))
        invoice = db.session.get(Invoice, order.invoice_id)
        return {"status": order.status, "invoice": invoice.status,
                "payments": [p.method for p in db.session.scalars(
                    sa.select(Payment).where(Payment.customer_id == order.customer_id))],
                "credits": db.session.scalar(sa.select(sa.func.count()).select_from(CreditTransaction)
                                             .where(CreditTransaction.reference == number)),
                "charges": [(c.attempt, c.status) for c in db.session.scalars(
                    sa.select(CardCharge).where(CardCharge.idempotency_key == f"order-{number}")
                    .order_by(CardCharge.attempt))]}


def _number(response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[1]


def test_the_checkout_offers_saved_cards_or_a_new_one_in_test_mode_and_lets_the_processor_in_on_that_page_only(
        cards_app, buyer):
    ids, client = buyer
    card_id = _saved_card(cards_app, ids["customer_id"])
    response = client.get("/portal/store/checkout")
    html = response.get_data(as_text=True)
    assert "Choose card" in html and "Visa ending 4242" in html and f'value="{card_id}"' in html
    assert "A new card" in html and "Save credit card" in html and "Test mode" in html
    assert "(not available)" not in html and "<script>" not in html
    assert cards_app.config["STRIPE_API_BASE"] in response.headers["Content-Security-Policy"]
    assert not PROCESSOR_SECRET.search(html)
    assert cards_app.config["STRIPE_API_BASE"] not in client.get("/portal/store").headers["Content-Security-Policy"]


def test_paying_with_a_saved_card_pays_and_fulfils_the_order_once_and_a_second_press_charges_nothing(cards_app, buyer):
    ids, client = buyer
    card_id = _saved_card(cards_app, ids["customer_id"])
    token = token_of(client.get("/portal/store/checkout").get_data(as_text=True))
    form = form_of(ids, token, payment_method="card", card_choice=str(card_id))
    number = _number(client.post("/portal/store/checkout", form))
    again = client.post("/portal/store/checkout", form)
    assert _number(again) == number
    state = _order(cards_app, number)
    assert state["status"] == "Fulfilled" and state["invoice"] == "paid"
    assert state["payments"] == ["Credit card"] and state["credits"] == 1
    assert state["charges"] == [(1, "succeeded")]
    page = client.get(f"/portal/orders/{number}").get_data(as_text=True)
    assert "Fulfilled" in page and "Retry payment" not in page and not PROCESSOR_SECRET.search(page)


def test_paying_with_a_new_card_saves_it_when_asked(cards_app, buyer):
    ids, client = buyer
    token = token_of(client.get("/portal/store/checkout").get_data(as_text=True))
    intent = _new_card(cards_app, client, _checkout_intents(token))
    number = _number(client.post("/portal/store/checkout", form_of(ids, token, payment_method="card", card_choice="new",
                                                                   setup_intent=intent, save_card="1")))
    state = _order(cards_app, number)
    assert state["status"] == "Fulfilled" and state["charges"] == [(1, "succeeded")]
    with cards_app.app_context():
        saved = db.session.scalars(sa.select(StoredCard).where(StoredCard.customer_id == ids["customer_id"])).all()
        assert [(c.last4, c.is_default) for c in saved] == [("4242", True)]


def test_a_declined_card_leaves_the_order_awaiting_payment_with_the_message_and_a_retry_pays_it(cards_app, buyer):
    ids, client = buyer
    token = token_of(client.get("/portal/store/checkout").get_data(as_text=True))
    intent = _new_card(cards_app, client, _checkout_intents(token), DECLINED)
    number = _number(client.post("/portal/store/checkout", form_of(ids, token, payment_method="card",
                                                                   card_choice="new", setup_intent=intent)))
    state = _order(cards_app, number)
    assert state["status"] == "Awaiting payment" and state["invoice"] == "issued" and state["credits"] == 0
    assert state["charges"] == [(1, "declined")] and state["payments"] == []
    page = client.get(f"/portal/orders/{number}").get_data(as_text=True)
    with cards_app.app_context():
        message = db.session.scalar(sa.select(CardCharge.message).where(CardCharge.idempotency_key == f"order-{number}"))
    assert message and message in page and "Retry payment" in page and "Choose card" in page
    assert client.post(f"/portal/orders/{number}/pay", {"card_choice": ""}).status_code == 422
    retry = client.post(f"/portal/orders/{number}/pay",
                        {"card_choice": "new", "setup_intent": _new_card(cards_app, client, _order_intents(number))})
    assert retry.status_code == 303
    state = _order(cards_app, number)
    assert state["status"] == "Fulfilled" and state["credits"] == 1
    assert state["charges"] == [(1, "declined"), (2, "succeeded")]
    again = client.post(f"/portal/orders/{number}/pay",
                        {"card_choice": "new", "setup_intent": _new_card(cards_app, client, _order_intents(number))})
    assert again.status_code == 409 and _order(cards_app, number)["charges"] == [(1, "declined"), (2, "succeeded")]


def test_a_charge_whose_outcome_was_unknown_pays_its_order_when_the_worker_settles_it(cards_app, buyer, monkeypatch):
    ids, client = buyer
    card_id = _saved_card(cards_app, ids["customer_id"])
    token = token_of(client.get("/portal/store/checkout").get_data(as_text=True))
    with cards_app.app_context():  # the processor charges the card, but its answer never comes back
        service = cards.processor().client.v1.payment_intents
    real = service.create

    def create(*args, **kwargs):
        real(*args, **kwargs)
        raise stripe.APIConnectionError("Network error: timed out")

    monkeypatch.setattr(service, "create", create)
    number = _number(client.post("/portal/store/checkout", form_of(ids, token, payment_method="card",
                                                                   card_choice=str(card_id))))
    monkeypatch.setattr(service, "create", real)
    state = _order(cards_app, number)
    assert state["status"] == "Awaiting payment" and state["charges"] == [(1, "unknown")] and state["credits"] == 0
    assert "will not be made twice" in client.get(f"/portal/orders/{number}").get_data(as_text=True)
    with cards_app.app_context():
        charge = db.session.scalar(sa.select(CardCharge).where(CardCharge.idempotency_key == f"order-{number}"))
        charge.created_at -= timedelta(minutes=5)
        unit_of_work.commit()
        assert worker.run_pass()["card charges"] == "1 of 1 settled"
    state = _order(cards_app, number)
    assert state["status"] == "Fulfilled" and state["charges"] == [(1, "succeeded")]
    assert state["payments"] == ["Credit card"] and state["credits"] == 1
    with cards_app.app_context():
        worker.run_pass()
    assert _order(cards_app, number)["payments"] == ["Credit card"]


def test_staff_cancel_of_a_paid_card_order_refunds_the_card(cards_app, buyer, as_role):
    ids, client = buyer
    with cards_app.app_context():  # only the plan line, on a deployment decommissioned before the payment
        for line in db.session.scalars(sa.select(CartLine).where(CartLine.id != ids["lines"]["plan"])):
            db.session.delete(line)
        db.session.commit()
    card_id = _saved_card(cards_app, ids["customer_id"])
    token = token_of(client.get("/portal/store/checkout").get_data(as_text=True))
    form = {"token": token, f"deployment-{ids['lines']['plan']}": ids["deployment_id"], "payment_method": "card",
            "card_choice": "new", "setup_intent": _new_card(cards_app, client, _checkout_intents(token), DECLINED),
            "terms": "1", "has_po": "no"}
    number = _number(client.post("/portal/store/checkout", form))
    with cards_app.app_context():
        db.session.get(Deployment, ids["deployment_id"]).status = "Decommissioned"
        db.session.commit()
    assert client.post(f"/portal/orders/{number}/pay", {"card_choice": str(card_id)}).status_code == 303
    assert _order(cards_app, number)["status"] == "Paid"  # its plan could not be fulfilled
    staff = as_role("admin")
    assert staff.post(f"/orders/{number}/cancel", {"reason": "Wrong deployment"}).status_code == 303
    state = _order(cards_app, number)
    assert state["status"] == "Cancelled" and state["invoice"] == "void"
    assert state["charges"] == [(1, "declined"), (2, "refunded")]
    with cards_app.app_context():
        charge = db.session.scalar(sa.select(CardCharge).where(CardCharge.status == "refunded"))
        refunds = cards.processor().client.v1.refunds.list(params={"limit": 10}).data
        assert charge.refund_id in [r.id for r in refunds]


def _cart_size(app, customer_id: int) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(CartLine).join(CartLine.cart)
                                 .where(Cart.customer_id == customer_id))


def test_a_setup_intent_the_panel_did_not_start_for_this_checkout_is_refused_by_the_card_field_and_the_cart_kept(
        cards_app, buyer):
    """Only the SetupIntent this session was given for this checkout (its token) pays: not one started on the Cards
    page, not another checkout tab's, not one for an order's Retry; nothing is ordered or charged, the cart stays."""
    ids, client = buyer
    token = token_of(client.get("/portal/store/checkout").get_data(as_text=True))
    other_tab = token_of(client.get("/portal/store/checkout").get_data(as_text=True))
    lines = _cart_size(cards_app, ids["customer_id"])
    strangers = [_new_card(cards_app, client, "/portal/cards/setup-intent"),
                 _new_card(cards_app, client, _checkout_intents(other_tab))]
    for intent in strangers:
        refused = client.post("/portal/store/checkout", form_of(ids, token, payment_method="card", card_choice="new",
                                                                setup_intent=intent))
        assert refused.status_code == 422
        html = refused.get_data(as_text=True)
        assert payment.WRONG_INTENT in html and "Nothing was ordered" in html
        assert html.index(payment.WRONG_INTENT) > html.index("Choose card")  # by the card field
    with cards_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CardCharge)) == 0
    assert _cart_size(cards_app, ids["customer_id"]) == lines
    mine = _new_card(cards_app, client, _checkout_intents(token))
    number = _number(client.post("/portal/store/checkout", form_of(ids, token, payment_method="card",
                                                                   card_choice="new", setup_intent=mine)))
    assert _order(cards_app, number)["status"] == "Fulfilled"


def test_a_retry_takes_only_the_setup_intent_started_for_that_order(cards_app, buyer):
    ids, client = buyer
    token = token_of(client.get("/portal/store/checkout").get_data(as_text=True))
    number = _number(client.post("/portal/store/checkout", form_of(
        ids, token, payment_method="card", card_choice="new",
        setup_intent=_new_card(cards_app, client, _checkout_intents(token), DECLINED))))
    stale = _new_card(cards_app, client, _checkout_intents(token))  # the checkout's, not the order's
    refused = client.post(f"/portal/orders/{number}/pay", {"card_choice": "new", "setup_intent": stale})
    assert refused.status_code == 422 and payment.WRONG_INTENT in refused.get_data(as_text=True)
    assert _order(cards_app, number)["charges"] == [(1, "declined")]
    paid = client.post(f"/portal/orders/{number}/pay",
                       {"card_choice": "new", "setup_intent": _new_card(cards_app, client, _order_intents(number))})
    assert paid.status_code == 303 and _order(cards_app, number)["status"] == "Fulfilled"


def test_with_the_stored_cards_section_hidden_a_new_card_pays_at_checkout_for_that_order_only(cards_app, buyer):
    """Portal Access without "cards": the Cards page is not found, but Credit Card at checkout still takes a new card,
    with no saved cards listed and no "Save credit card" (a forged save_card saves nothing, a saved card's id is
    refused)."""
    ids, client = buyer
    card_id = _saved_card(cards_app, ids["customer_id"])
    with cards_app.app_context():
        customer = db.session.get(Customer, ids["customer_id"])
        customer.portal_sections = " ".join(key for key in customer.portal_sections.split() if key != "cards")
        db.session.commit()
    assert client.get("/portal/cards").status_code == 404
    assert client.post("/portal/cards/setup-intent", {}, headers={"Accept": "application/json"}).status_code == 404
    html = client.get("/portal/store/checkout").get_data(as_text=True)
    assert "A new card" in html and "used for this payment only" in html
    assert "Save credit card" not in html and "Visa ending 4242" not in html
    assert f'name="card_choice" value="{card_id}"' not in html and 'name="card_choice" value="new"' in html
    token = token_of(html)
    saved_one = client.post("/portal/store/checkout", form_of(ids, token, payment_method="card",
                                                              card_choice=str(card_id)))
    assert saved_one.status_code == 422 and "Enter the card&#39;s details." in saved_one.get_data(as_text=True)
    intent = _new_card(cards_app, client, _checkout_intents(token))
    number = _number(client.post("/portal/store/checkout", form_of(ids, token, payment_method="card", card_choice="new",
                                                                   setup_intent=intent, save_card="1")))
    state = _order(cards_app, number)
    assert state["status"] == "Fulfilled" and state["charges"] == [(1, "succeeded")]
    with cards_app.app_context():
        saved = db.session.scalars(sa.select(StoredCard.id).where(StoredCard.customer_id == ids["customer_id"])).all()
        assert saved == [card_id]  # the new card was not kept
