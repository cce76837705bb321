"""The Cards tab of a staff customer record (payments area): list, add (the card element), set default, remove."""
from panel import access
from panel import actor as actors
from panel.cards import bp, section


def _customer(customer_id: int):
    return access.fetch_customer(actors.current(), customer_id)


@bp.get("/<int:customer_id>/cards")
def cards(customer_id: int):
    return section.cards_page(actors.current(), _customer(customer_id), section.staff_links(customer_id))


@bp.get("/<int:customer_id>/cards/new")
def new(customer_id: int):
    return section.new_card_page(actors.current(), _customer(customer_id), section.staff_links(customer_id))


@bp.post("/<int:customer_id>/cards/setup-intent")
def setup_intent(customer_id: int):
    return section.setup_intent(actors.current(), _customer(customer_id))


@bp.post("/<int:customer_id>/cards")
def create(customer_id: int):
    return section.add_card(actors.current(), _customer(customer_id), section.staff_links(customer_id))


@bp.post("/<int:customer_id>/cards/<int:card_id>/default")
def default(customer_id: int, card_id: int):
    return section.make_default(actors.current(), _customer(customer_id), card_id, section.staff_links(customer_id))


@bp.post("/<int:customer_id>/cards/<int:card_id>/remove")
def remove(customer_id: int, card_id: int):
    return section.remove(actors.current(), _customer(customer_id), card_id, section.staff_links(customer_id))
