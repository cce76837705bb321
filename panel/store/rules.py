"""Who may buy, in one place: every Store page, the cart and checkout ask these functions, never the
contact type themselves.

- Admin and Billing contacts build a cart, check out, place orders and pay.
- Other contacts browse the Store (items and prices) but buy nothing.
- Staff in Portal Login build a cart and save a quote as the contact, but never place an order or pay as
  the contact (whatever the contact's type).
"""
from panel.actor import Actor
from panel.portal.sections import open_for

BUYER_TYPES = frozenset({"Admin", "Billing"})


def store_open(actor: Actor) -> bool:
    """Whether the Store is open to this actor's customer at all: its Portal Access "store" section
    (panel/portal/sections.py; the portal's Store routes answer 404 when it is closed)."""
    return open_for(actor, "store")


def _buyer(actor: Actor) -> bool:
    return actor.in_portal and actor.contact.contact_type in BUYER_TYPES


def may_browse(actor: Actor) -> bool:
    return actor.in_portal and store_open(actor)


def may_place_order(actor: Actor) -> bool:
    """Place an order and pay: an Admin or Billing contact signed in themself."""
    return may_browse(actor) and _buyer(actor) and not actor.impersonated


def may_quote(actor: Actor) -> bool:
    """Save the cart as a quote: a buyer, or staff in Portal Login."""
    return may_browse(actor) and (_buyer(actor) or actor.impersonated)


def may_check_out(actor: Actor) -> bool:
    """Build a cart and go to checkout (to order, or at least to quote)."""
    return may_place_order(actor) or may_quote(actor)


def checkout_refusal(actor: Actor) -> str | None:
    """Why Checkout is not offered (None: it is)."""
    if not may_browse(actor):
        return "The Store is not open to your account."
    if may_check_out(actor):
        return None
    return "Only Admin and Billing contacts can buy. Ask one of them to place the order."


def order_refusal(actor: Actor) -> str | None:
    """Why this actor may go to checkout but not place an order (None: it may)."""
    if may_place_order(actor):
        return None
    if actor.impersonated and may_quote(actor):
        return "In Portal Login you can save a quote, but only the contact can place the order and pay."
    return checkout_refusal(actor)
