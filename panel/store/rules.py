"""Who may buy in the Store, in one place: the checkout, the portal's pages and the tests ask these."""
from panel.actor import Actor

BUYER_TYPES = ("Admin", "Billing")


def may_check_out(actor: Actor) -> bool:
    """Admin and Billing contacts check out (and staff in Portal Login as one of them); others browse."""
    return actor.in_portal and actor.contact.contact_type in BUYER_TYPES


def may_place_order(actor: Actor) -> bool:
    """Placing an order (and paying) is the contact's own act: never staff in Portal Login."""
    return may_check_out(actor) and not actor.impersonated


def may_quote(actor: Actor) -> bool:
    """Saving a quote buys nothing: whoever may check out, Portal Login included."""
    return may_check_out(actor)
