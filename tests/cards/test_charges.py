"""Cards against localstripe: cards stored from a confirmed SetupIntent, charges made at most once per key,
declines with the processor's message, refunds, and the worker's reconciliation of an unknown outcome. No
processor id or key ever reaches the audit log or a log line."""
import logging
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
import stripe

from panel import unit_of_work, worker
from panel.actor import SYSTEM
from panel.audit.models import AuditEntry
from panel.cards import cards
from panel.cards.models import CardCharge, StoredCard
from panel.customers.models import Customer
from panel.extensions import db
from tests.cards.conftest import PROCESSOR_SECRET
from tests.factories import CustomerFactory

GOOD = "4242424242424242"
DECLINED_AT_SETUP = "4000000000000002"  # declined when the card is set up or attached
DECLINED_WHEN_CHARGED = "4000000000000341"  # attaches, then every charge is declined


def _card(number: str) -> dict:
    return {"type": "card", "card": {"number": number, "exp_month": 11, "exp_year": 2031, "cvc": "123"}}


def confirm_in_browser(setup_intent, number: str = GOOD) -> str:
    """What stripe.js does with the card typed into the card element: confirm the SetupIntent."""
    proc = cards.processor()
    return proc.client.v1.setup_intents.confirm(setup_intent.id, params={"payment_method_data": _card(number)}).id


def add_card(customer, number: str = GOOD) -> StoredCard:
    intent = cards.start_adding(SYSTEM, customer)
    card = cards.add_from_setup_intent(SYSTEM, customer, confirm_in_browser(intent, number))
    unit_of_work.commit()
    return card


def intents_for(key: str) -> list:
    """The PaymentIntents localstripe holds for one attempt's key."""
    proc = cards.processor()
    return [i for i in proc.client.v1.payment_intents.list(params={"limit": 100}).auto_paging_iter()
            if (i.metadata.to_dict() if i.metadata else {}).get("panel_idempotency_key") == key]


@pytest.fixture
def shop(cards_app):
    with cards_app.app_context():
        customer = CustomerFactory(name="Card Holder Ltd", currency="USD", email="billing@holder.example")
        unit_of_work.commit()
        yield customer
        db.session.remove()


def test_a_card_set_up_in_the_browser_is_stored_with_brand_last_four_and_expiry_and_the_first_is_the_default(shop):
    first = add_card(shop)
    second = add_card(shop, "4000056655665556")
    listed = cards.list_cards(SYSTEM, shop)
    assert [(c.brand, c.last4, c.expiry, c.is_default) for c in listed] == [
        ("visa", "4242", "11/2031", True), ("visa", "5556", "11/2031", False)]
    assert first.payment_method_id.startswith("pm_") and second.label == "Visa ending 5556"


def test_the_same_setup_intent_posted_twice_stores_one_card(shop):
    intent = cards.start_adding(SYSTEM, shop)
    confirmed = confirm_in_browser(intent)
    one = cards.add_from_setup_intent(SYSTEM, shop, confirmed)
    two = cards.add_from_setup_intent(SYSTEM, shop, confirmed)
    assert one.id == two.id and len(cards.list_cards(SYSTEM, shop)) == 1


def test_another_customers_setup_intent_is_refused(shop):
    other = CustomerFactory(name="Someone Else")
    intent = cards.start_adding(SYSTEM, other)
    confirmed = confirm_in_browser(intent)
    cards.start_adding(SYSTEM, shop)  # shop has a processor customer too
    with pytest.raises(cards.CardRefused, match="not set up"):
        cards.add_from_setup_intent(SYSTEM, shop, confirmed)


def test_a_card_declined_when_set_up_is_never_stored(shop):
    intent = cards.start_adding(SYSTEM, shop)
    with pytest.raises(stripe.CardError, match="Your card was declined."):
        confirm_in_browser(intent, DECLINED_AT_SETUP)
    with pytest.raises(cards.CardRefused, match="not set up"):
        cards.add_from_setup_intent(SYSTEM, shop, intent.id)
    assert cards.list_cards(SYSTEM, shop) == []


def test_the_default_card_cannot_be_removed_while_others_exist_and_another_can_be_made_default(shop):
    first, second = add_card(shop), add_card(shop, "4000056655665556")
    with pytest.raises(cards.CardRefused, match="default card cannot be removed"):
        cards.remove_card(SYSTEM, shop, first)
    cards.set_default(SYSTEM, shop, second)
    unit_of_work.commit()
    assert [c.id for c in cards.list_cards(SYSTEM, shop) if c.is_default] == [second.id]
    cards.remove_card(SYSTEM, shop, first)
    unit_of_work.commit()
    cards.remove_card(SYSTEM, shop, second)  # the last card, default or not, may go
    unit_of_work.commit()
    assert cards.list_cards(SYSTEM, shop) == []
    assert cards.processor().payment_method(second.payment_method_id).customer_ref is None  # detached after commit


def test_a_charge_on_a_stored_card_succeeds_and_the_same_key_never_charges_twice(shop):
    card = add_card(shop)
    charge = cards.charge_card(SYSTEM, shop, card, Decimal("12.34"), "USD", "order:O-1", "Order O-1")
    assert (charge.status, charge.message, charge.amount_minor, charge.attempt) == ("succeeded", "", 1234, 1)
    again = cards.charge_card(SYSTEM, shop, card, Decimal("12.34"), "USD", "order:O-1", "Order O-1")
    assert again.id == charge.id and again.status == "succeeded"
    assert len(intents_for(charge.processor_key)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CardCharge)) == 1
    assert intents_for(charge.processor_key)[0].amount == 1234


def test_a_new_card_declined_by_the_processor_gives_its_message_and_the_order_can_be_paid_again(shop):
    proc = cards.processor()
    typed = proc.client.v1.payment_methods.create(params=_card(DECLINED_AT_SETUP)).id
    declined = cards.charge_card(SYSTEM, shop, cards.NewCard(payment_method_id=typed, save=True), Decimal("50"),
                                 "USD", "order:O-2", "Order O-2")
    assert (declined.status, declined.message) == ("declined", "Your card was declined.")
    assert cards.list_cards(SYSTEM, shop) == []  # "Save credit card" saves nothing that was declined
    good = add_card(shop)
    paid = cards.charge_card(SYSTEM, shop, good, Decimal("50"), "USD", "order:O-2", "Order O-2")
    assert (paid.status, paid.attempt) == ("succeeded", 2)
    assert len(intents_for("order:O-2:2")) == 1 and intents_for("order:O-2:1") == []


def test_a_stored_card_declined_when_charged_keeps_the_processors_message(shop):
    card = add_card(shop, DECLINED_WHEN_CHARGED)
    charge = cards.charge_card(SYSTEM, shop, card, Decimal("9.99"), "USD", "order:O-3", "Order O-3")
    assert (charge.status, charge.message) == ("declined", "Your card was declined.")
    assert [i.status for i in intents_for(charge.processor_key)] == ["requires_payment_method"]


def test_a_new_card_that_is_saved_becomes_a_stored_card_and_one_that_is_not_is_detached(shop):
    proc = cards.processor()
    kept = cards.charge_card(SYSTEM, shop, cards.NewCard(setup_intent_id=confirm_in_browser(
        cards.start_adding(SYSTEM, shop)), save=True), Decimal("5"), "USD", "order:O-4", "Order O-4")
    once = proc.client.v1.payment_methods.create(params=_card("4000056655665556")).id
    used = cards.charge_card(SYSTEM, shop, cards.NewCard(payment_method_id=once), Decimal("5"), "USD",
                             "order:O-5", "Order O-5")
    assert kept.status == used.status == "succeeded"
    assert [c.last4 for c in cards.list_cards(SYSTEM, shop)] == ["4242"]
    assert kept.stored_card_id is not None and used.stored_card_id is None and used.card_label == "Visa ending 5556"
    assert proc.payment_method(once).customer_ref is None


def test_a_refund_is_made_once_and_recorded(shop):
    card = add_card(shop)
    charge = cards.charge_card(SYSTEM, shop, card, Decimal("20"), "USD", "order:O-6", "Order O-6")
    refunded = cards.refund_charge(SYSTEM, charge)
    unit_of_work.commit()
    assert refunded.status == "refunded" and refunded.refund_id.startswith("re_")
    assert cards.refund_charge(SYSTEM, charge).refund_id == refunded.refund_id  # asks nothing twice
    refunds = cards.processor().client.v1.refunds.list(params={"payment_intent": charge.processor_charge_id})
    assert [r.amount for r in refunds.auto_paging_iter()] == [2000]
    with pytest.raises(cards.CardRefused, match="Only a charge that was made"):
        declined = cards.charge_card(SYSTEM, shop, add_card(shop, DECLINED_WHEN_CHARGED), Decimal("1"), "USD",
                                     "order:O-7", "Order O-7")
        cards.refund_charge(SYSTEM, declined)


def _lose_the_answer(monkeypatch, *, after_charging: bool):
    """The processor's answer never comes back: a timeout after the charge was made, or before it arrived."""
    service = cards.processor().client.v1.payment_intents
    real = service.create

    def create(*args, **kwargs):
        if after_charging:
            real(*args, **kwargs)
        raise stripe.APIConnectionError("Network error: timed out")

    monkeypatch.setattr(service, "create", create)
    return lambda: monkeypatch.setattr(service, "create", real)


def _age(charge: CardCharge, minutes: int) -> None:
    charge.created_at = charge.created_at - timedelta(minutes=minutes)
    unit_of_work.commit()


def _run_worker() -> dict:
    """One pass of the worker (it ends its session: objects loaded before are detached)."""
    return worker.run_pass()


def test_an_unknown_outcome_is_kept_and_the_worker_finds_the_charge_made(shop, monkeypatch):
    card = add_card(shop)
    shop_id, card_id = shop.id, card.id
    restore = _lose_the_answer(monkeypatch, after_charging=True)
    charge = cards.charge_card(SYSTEM, shop, card, Decimal("30"), "USD", "order:O-8", "Order O-8")
    restore()
    charge_id, key = charge.id, charge.processor_key
    assert charge.status == "unknown" and "will not be made twice" in charge.message
    settled = []
    monkeypatch.setattr(cards, "SETTLED_HOOKS", [lambda c: settled.append((c.idempotency_key, c.status))])
    assert _run_worker()["card charges"] is None  # too young: its answer may still be on its way
    _age(db.session.get(CardCharge, charge_id), 2)
    assert _run_worker()["card charges"] == "1 of 1 settled"
    charge = db.session.get(CardCharge, charge_id)
    assert charge.status == "succeeded" and settled == [("order:O-8", "succeeded")]
    assert len(intents_for(key)) == 1
    again = cards.charge_card(SYSTEM, db.session.get(Customer, shop_id), db.session.get(StoredCard, card_id),
                              Decimal("30"), "USD", "order:O-8", "Order O-8")
    assert again.id == charge_id and len(intents_for(key)) == 1


def test_a_retry_of_an_unknown_charge_asks_the_processor_instead_of_charging_again(shop, monkeypatch):
    card = add_card(shop)
    restore = _lose_the_answer(monkeypatch, after_charging=True)
    lost = cards.charge_card(SYSTEM, shop, card, Decimal("7"), "USD", "order:O-9", "Order O-9")
    restore()
    retried = cards.charge_card(SYSTEM, shop, card, Decimal("7"), "USD", "order:O-9", "Order O-9")
    assert retried.id == lost.id and retried.status == "succeeded"
    assert len(intents_for(lost.processor_key)) == 1 and intents_for("order:O-9:2") == []


def test_a_charge_that_never_reached_the_processor_is_declined_after_a_while_and_can_be_retried(shop, monkeypatch):
    card = add_card(shop)
    shop_id, card_id = shop.id, card.id
    restore = _lose_the_answer(monkeypatch, after_charging=False)
    lost_id = cards.charge_card(SYSTEM, shop, card, Decimal("8"), "USD", "order:O-10", "Order O-10").id
    restore()
    _age(db.session.get(CardCharge, lost_id), 5)
    assert _run_worker()["card charges"] == "0 of 1 settled"  # not found yet, but it may still arrive
    _age(db.session.get(CardCharge, lost_id), 20)
    assert _run_worker()["card charges"] == "1 of 1 settled"
    lost = db.session.get(CardCharge, lost_id)
    assert lost.status == "declined" and "never reached" in lost.message
    paid = cards.charge_card(SYSTEM, db.session.get(Customer, shop_id), db.session.get(StoredCard, card_id),
                             Decimal("8"), "USD", "order:O-10", "Order O-10")
    assert (paid.status, paid.attempt) == ("succeeded", 2)


def test_without_a_secret_key_cards_are_not_available_and_nothing_is_faked(app):
    with app.app_context():
        customer = CustomerFactory()
        assert cards.availability().available is False
        with pytest.raises(cards.CardsUnavailable, match="not available"):
            cards.start_adding(SYSTEM, customer)
        assert _run_worker()["card charges"] is None


def test_test_mode_is_said_for_a_stand_in_or_a_test_key(cards_app):
    with cards_app.app_context():
        assert cards.availability().test_mode is True
        cards_app.config.update(STRIPE_SECRET_KEY="sk_live_x", STRIPE_API_BASE="https://api.stripe.com")
        assert cards.availability().test_mode is False
        cards_app.config.update(STRIPE_SECRET_KEY="sk_test_x")
        assert cards.availability().test_mode is True


def test_no_processor_id_or_key_is_audited_or_logged(shop, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    card = add_card(shop)
    cards.charge_card(SYSTEM, shop, card, Decimal("1"), "USD", "order:O-11", "Order O-11")
    cards.refund_charge(SYSTEM, db.session.scalar(sa.select(CardCharge)))
    restore = _lose_the_answer(monkeypatch, after_charging=True)
    cards.charge_card(SYSTEM, shop, card, Decimal("2"), "USD", "order:O-12", "Order O-12")
    restore()
    cards.remove_card(SYSTEM, shop, card)
    unit_of_work.commit()
    entries = list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.table_name.in_(
        ("stored_card", "card_charge", "card_processor_customer")))))
    assert {e.table_name for e in entries} == {"stored_card", "card_charge", "card_processor_customer"}
    text = "\n".join(f"{e.message} {e.data} {e.comment or ''}" for e in entries)
    assert "[secret]" in text and not PROCESSOR_SECRET.search(text), text
    assert caplog.records and not PROCESSOR_SECRET.search(caplog.text), caplog.text
    assert "outcome unknown" in caplog.text


def test_an_amount_the_currency_cannot_hold_is_refused_before_anything_is_asked(shop):
    card = add_card(shop)
    with pytest.raises(ValueError):
        cards.charge_card(SYSTEM, shop, card, Decimal("1.005"), "USD", "order:O-13", "Order O-13")
    assert cards.minor_units(Decimal("1000"), "JPY") == 1000 and cards.minor_units(Decimal("1.5"), "KWD") == 1500
    assert db.session.get(Customer, shop.id) is not None
