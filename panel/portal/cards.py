"""The portal's Cards tab: the stored cards of the contact's own customer (Admin and Billing contacts; never a
sub-account's through the reseller tree), with the same template as the staff record's."""
from flask import abort

from panel import access
from panel import actor as actors
from panel.cards import cards as card_rules
from panel.cards import section
from panel.portal import bp
from panel.portal.sections import section_required


def _own_customer():
    """The contact's own customer, if this contact may see its cards; else 404."""
    actor = actors.current()
    customer = access.fetch_customer(actor, actor.customer_id, message=access.NOT_YOURS)
    if not card_rules.may_view(actor, customer):
        abort(404, "There is no such page in your account.")
    return actor, customer


@bp.get("/cards")
@section_required("cards")
def cards():
    actor, customer = _own_customer()
    return section.cards_page(actor, customer, section.portal_links(customer.id))


@bp.get("/cards/new")
@section_required("cards")
def new_card():
    actor, customer = _own_customer()
    return section.new_card_page(actor, customer, section.portal_links(customer.id))


@bp.post("/cards/setup-intent")
@section_required("cards")
def card_setup_intent():
    actor, customer = _own_customer()
    return section.setup_intent(actor, customer)


@bp.post("/cards")
@section_required("cards")
def create_card():
    actor, customer = _own_customer()
    return section.add_card(actor, customer, section.portal_links(customer.id))


@bp.post("/cards/<int:card_id>/default")
@section_required("cards")
def default_card(card_id: int):
    actor, customer = _own_customer()
    return section.make_default(actor, customer, card_id, section.portal_links(customer.id))


@bp.post("/cards/<int:card_id>/remove")
@section_required("cards")
def remove_card(card_id: int):
    actor, customer = _own_customer()
    return section.remove(actor, customer, card_id, section.portal_links(customer.id))
