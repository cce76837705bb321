"""Card payments of Store orders: the one place checkout and cancellation reach the card processor.

The processor (panel/cards/, Stripe) is wired in here; until it is, both functions refuse plainly, so an
order is never marked paid by a card that was not charged, nor cancelled as refunded when it was not.
"""
import os

from flask import current_app

from panel.actor import Actor

NOT_AVAILABLE = "Credit card payments are not available yet."


class CardPaymentRefused(Exception):
    """The card could not be charged or refunded; the message is for the person paying."""


def cards_configured() -> bool:
    """Credit Card is offered only with a processor key (STRIPE_SECRET_KEY); without one it is shown as not
    available, never faked."""
    return bool(current_app.config.get("STRIPE_SECRET_KEY") or os.environ.get("STRIPE_SECRET_KEY"))


def pay_by_card(actor: Actor, order, card_choice: str) -> None:
    """Charge the order's total to the chosen (or a new) card; raises CardPaymentRefused when it is not paid."""
    raise CardPaymentRefused(NOT_AVAILABLE)


def refund_card(actor: Actor, order) -> None:
    """Refund the order's card payment through the processor; raises CardPaymentRefused when it cannot."""
    raise CardPaymentRefused("Card refunds are not available yet: refund the card with the processor first.")
