"""Card payments of Store orders: the one place checkout, the order's Retry, cancellation and the worker reach
the card processor (panel/cards/).

- One charge per order at most: the idempotency key is `order-<number>`; a second press, a retry after a
  timeout or two tabs get the charge already made (panel/cards/cards.py `charge_card`).
- `charge_card` commits the caller's unit of work before it asks the processor (and again with the answer), so
  the order is committed before any money is asked for, and a decline stays recorded with its message.
- A charge that succeeded becomes a Completed "Credit card" payment allocated to the order's invoice through
  the same path staff's wire and cheque payments take (fulfilment.take_payment): the order is Paid and
  fulfilled once. A decline leaves the order Awaiting payment with the processor's message (`last_charge`),
  to be retried from the order's page. An unknown outcome is settled by the cards worker job, whose hook
  (`on_settled`, registered below) pays the order when the charge turns out to have succeeded.
- Cancelling a paid card order refunds the charge in full through the processor first.
"""
import os

import sqlalchemy as sa
from flask import current_app

from panel import actor as actors
from panel.actor import Actor
from panel.cards import cards
from panel.cards.models import CardCharge, StoredCard
from panel.customers.models import Customer
from panel.extensions import db
from panel.invoices import payments
from panel.portal.sections import open_for
from panel.store import fulfilment, rules
from panel.store.models import Order

NOT_AVAILABLE = "Credit card payments are not available; choose Wire Transfer or Check."
CHOOSE = "Choose one of your saved cards or enter a new card."
NEW = "new"
WRONG_INTENT = "The card was not set up for this payment: enter its details again and press the button once more."


class CardPaymentRefused(Exception):
    """The card could not be charged or refunded; the message is for the person paying."""


def cards_configured() -> bool:
    """Credit Card is offered only with a processor key (STRIPE_SECRET_KEY); without one it is shown as not
    available, never faked."""
    return bool(current_app.config.get("STRIPE_SECRET_KEY") or os.environ.get("STRIPE_SECRET_KEY"))


def stored_cards_open(actor: Actor) -> bool:
    """Whether paying may use and keep stored cards: the customer's Portal Access "cards" section (the stored-cards
    page). Hidden, a payment still takes a new card, used for that payment only and never saved."""
    return open_for(actor, "cards")


def card_info(actor: Actor, customer: Customer) -> dict | None:
    """The card choice of a contact who may pay by card (not staff in Portal Login): the processor's availability,
    the customer's saved cards and whether "Save credit card" is offered (both only with the stored-cards
    section open); None when Credit Card cannot be used here."""
    if not cards_configured() or not rules.may_place_order(actor) or not cards.may_change(actor, customer):
        return None
    stored = stored_cards_open(actor)
    return {"availability": cards.availability(), "cards": cards.list_cards(actor, customer) if stored else [],
            "save_offered": stored}


def new_card_refusal(choice: str, issued: str | None) -> str | None:
    """Why a new card's SetupIntent may not pay here: it is not the one the panel started for this payment (this
    checkout, this order) in this session. None: it is, or the choice is not a new card."""
    head, _, intent = (choice or "").strip().partition(":")
    if not head.startswith(NEW) or not intent:
        return None
    return None if issued and intent == issued else WRONG_INTENT


def key_of(order: Order) -> str:
    return f"order-{order.number}"


def card_choice(choice: str, setup_intent: str = "", save: bool = False) -> str:
    """The checkout form's card fields as one text: a saved card's id, or `new[+save]:<SetupIntent id>`."""
    choice = (choice or "").strip()
    if choice == NEW:
        return f"{NEW}{'+save' if save else ''}:{(setup_intent or '').strip()[:255]}"
    return choice[:12]


def _card(customer: Customer, choice: str, stored: bool = True):
    """The card to charge: a new one (saved only when asked and `stored` cards are open) or a saved one (only
    when they are)."""
    choice = (choice or "").strip()
    if choice.startswith(NEW):
        head, _, intent = choice.partition(":")
        if not intent:
            raise CardPaymentRefused("Enter the card's details.")
        return cards.NewCard(setup_intent_id=intent, save=stored and head == f"{NEW}+save")
    if not stored:
        raise CardPaymentRefused("Enter the card's details.")
    card_id = int(choice) if choice.isdigit() and len(choice) <= 10 else None
    card = db.session.scalar(sa.select(StoredCard).where(StoredCard.id == card_id, StoredCard.customer_id == customer.id,
                                                         StoredCard.removed_at.is_(None))) if card_id else None
    if card is None:
        raise CardPaymentRefused(CHOOSE)
    return card


def last_charge(order: Order) -> CardCharge | None:
    """The order's latest card charge attempt (its status and the processor's message), if any."""
    if order.kind != "order" or not order.number:
        return None
    return cards.last_attempt(key_of(order))


def decline_message(order: Order) -> str:
    """What the order's page says by its card field when the order awaits a card payment that did not go
    through (declined, or its outcome not yet known)."""
    if order.status != "Awaiting payment" or order.payment_method != "card":
        return ""
    charge = last_charge(order)
    if charge is None or charge.status in ("succeeded", "refunded"):
        return ""
    return charge.message or ""


def pay_by_card(actor: Actor, order: Order, card_choice: str) -> None:
    """Charge the order's total to the chosen (or a new) card; raises CardPaymentRefused when it is not paid
    (the order stays Awaiting payment; a declined attempt is recorded with the processor's message). Commits the
    unit of work (see the module docstring)."""
    if not cards_configured():
        raise CardPaymentRefused(NOT_AVAILABLE)
    if order.kind != "order" or order.status != "Awaiting payment":
        return  # paid already (a second press), cancelled, or a quote: nothing to charge
    customer = db.session.get(Customer, order.customer_id)
    card = _card(customer, card_choice, stored_cards_open(actor))
    number, order_id = order.number, order.id
    try:
        charge = cards.charge_card(actor, customer, card, order.total, order.currency, key_of(order),
                                   f"Order {number}")
    except cards.CardsUnavailable:
        raise CardPaymentRefused(NOT_AVAILABLE) from None
    except cards.CardRefused as refused:
        raise CardPaymentRefused(str(refused)) from None
    if charge.status in ("succeeded", "refunded"):
        _paid(actor, order_id, charge)
        return
    raise CardPaymentRefused(charge.message or "The card was not charged: try again.")


def _paid(actor: Actor, order_id: int, charge: CardCharge) -> None:
    """A succeeded charge pays its order, once (the order's row lock; a paid order is left alone)."""
    order = fulfilment.locked_order(order_id)
    if order is None or order.kind != "order" or order.status != "Awaiting payment" or charge.status != "succeeded":
        return
    # The payment is the system's record of the processor's answer, in the name of whoever paid (a contact may
    # not record payments themselves).
    doer = actor if actor.is_system else actors.on_behalf_of(**fulfilment._as_recorded(actor))
    label = charge.card_label or "card"
    try:
        fulfilment.take_payment(doer, order, "Credit card", f"{order.number} {label}"[:100])
    except payments.PaymentRefused as error:  # the invoice changed meanwhile: staff sort it out
        current_app.logger.warning("card charge %s of %s: the payment was not recorded: %s", charge.id,
                                   order.number, error)


def on_settled(charge: CardCharge) -> None:
    """SETTLED_HOOKS: the worker settled a charge whose outcome was unknown; a store order's charge that
    succeeded pays the order."""
    key = charge.idempotency_key or ""
    if not key.startswith("order-") or charge.status != "succeeded":
        return
    order_id = db.session.scalar(sa.select(Order.id).where(Order.number == key[len("order-"):],
                                                           Order.customer_id == charge.customer_id))
    if order_id is not None:
        _paid(actors.SYSTEM, order_id, charge)


if on_settled not in cards.SETTLED_HOOKS:
    cards.SETTLED_HOOKS.append(on_settled)


def refund_card(actor: Actor, order: Order) -> None:
    """Refund the order's card payment through the processor; raises CardPaymentRefused when it cannot."""
    charge = last_charge(order)
    if charge is None or charge.status not in ("succeeded", "refunded"):
        raise CardPaymentRefused(f"{order.number} has no card charge to refund: refund it with the processor "
                                 "first.")
    try:
        cards.refund_charge(actor, charge, f"refund-{key_of(order)}")
    except cards.CardsUnavailable:
        raise CardPaymentRefused("Card refunds are not available: no payment processor is set up.") from None
    except cards.CardRefused as refused:
        raise CardPaymentRefused(str(refused)) from None
