"""The cart and who may buy: add, merge, change, remove; today's prices; products retired or no longer priced show
as unavailable; Admin and Billing contacts buy, others browse; staff in Portal Login build a cart and quote only."""
from decimal import Decimal

import pytest
from werkzeug.exceptions import Forbidden, NotFound

from panel import actor as actors
from panel import unit_of_work
from panel.actor import SYSTEM
from panel.contacts.models import CONTACT_TYPES, Contact
from panel.extensions import db
from panel.store import cart, catalogue, rules
from panel.store.models import Product
from tests.factories import ContactFactory, CustomerFactory, ProductFactory, StaffUserFactory


@pytest.fixture
def buyer(app):
    with app.app_context():
        customer = CustomerFactory(currency="EUR").id
        return ContactFactory(customer_id=customer, contact_type="Billing").id


def as_contact(contact_id, staff=None):
    return actors.contact(db.session.get(Contact, contact_id), staff)


def test_add_merges_quantities_and_the_subtotal_follows(app, buyer):
    with app.app_context():
        one = ProductFactory(prices={"EUR": "140", "USD": "150"}).id
        two = ProductFactory(prices={"EUR": "9.99"}).id
        with unit_of_work.unit():
            cart.add(as_contact(buyer), one, 2)
            cart.add(as_contact(buyer), two, 1)
            cart.add(as_contact(buyer), one, 3)
        seen = cart.view(as_contact(buyer))
        assert [(l.product.id, l.line.quantity, l.amount) for l in seen.lines] == [
            (one, 5, Decimal("700.00")), (two, 1, Decimal("9.99"))]
        assert (seen.currency, seen.subtotal, seen.count) == ("EUR", Decimal("709.99"), 6)


def test_set_quantity_and_remove(app, buyer):
    with app.app_context():
        product = ProductFactory(prices={"EUR": "10"}).id
        with unit_of_work.unit():
            line = cart.add(as_contact(buyer), product, 1)
        line_id = line.id
        with unit_of_work.unit():
            cart.set_quantity(as_contact(buyer), cart.line_of(as_contact(buyer), line_id), 7)
        assert cart.view(as_contact(buyer)).subtotal == Decimal("70.00")
        with unit_of_work.unit():
            cart.remove(as_contact(buyer), cart.line_of(as_contact(buyer), line_id))
        assert cart.view(as_contact(buyer)).lines == []


@pytest.mark.parametrize("quantity", [0, -1, 1000, 100000])
def test_a_quantity_outside_1_to_999_is_refused_and_the_cart_kept(app, buyer, quantity):
    with app.app_context():
        product = ProductFactory(prices={"EUR": "10"}).id
        with unit_of_work.unit():
            line = cart.add(as_contact(buyer), product, 2)
        with pytest.raises(cart.CartError):
            cart.add(as_contact(buyer), product, quantity)
        with pytest.raises(cart.CartError):
            cart.set_quantity(as_contact(buyer), db.session.get(type(line), line.id), quantity)
        db.session.rollback()
        assert [l.line.quantity for l in cart.view(as_contact(buyer)).lines] == [2]


def test_merging_beyond_999_is_refused(app, buyer):
    with app.app_context():
        product = ProductFactory(prices={"EUR": "1"}).id
        with unit_of_work.unit():
            cart.add(as_contact(buyer), product, 990)
        with pytest.raises(cart.CartError, match="At most 999"):
            cart.add(as_contact(buyer), product, 10)


def test_only_products_the_customer_sees_go_in_the_cart(app, buyer):
    with app.app_context():
        dollars = ProductFactory(prices={"USD": "1"}).id
        retired = ProductFactory(prices={"EUR": "1"})
        catalogue.retire_product(SYSTEM, retired)
        db.session.commit()
        for product_id in (dollars, retired.id, 999_999):
            with pytest.raises(cart.CartError, match="not available"):
                cart.add(as_contact(buyer), product_id, 1)


def test_retired_or_unpriced_products_stay_in_the_cart_unavailable(app, buyer):
    with app.app_context():
        kept, retired, unpriced = (ProductFactory(name=n, prices={"EUR": "10", "USD": "11"}).id
                                   for n in ("Kept", "Retired", "Unpriced"))
        with unit_of_work.unit():
            for product_id in (kept, retired, unpriced):
                cart.add(as_contact(buyer), product_id, 1)
        with unit_of_work.unit():
            catalogue.retire_product(SYSTEM, db.session.get(Product, retired))
            product = db.session.get(Product, unpriced)
            catalogue.update_product(SYSTEM, product, {c: getattr(product, c) for c in catalogue.PRODUCT_FIELDS},
                                     {"USD": Decimal(11)})
        seen = cart.view(as_contact(buyer))
        assert [(l.product.name, l.available, l.unavailable_reason) for l in seen.lines] == [
            ("Kept", True, ""), ("Retired", False, "No longer sold"), ("Unpriced", False, "Not sold in your currency")]
        assert seen.subtotal == Decimal("10.00") and seen.has_unavailable


def test_another_contacts_line_is_not_found(app, buyer):
    with app.app_context():
        other = ContactFactory(customer_id=db.session.get(Contact, buyer).customer_id, contact_type="Admin").id
        product = ProductFactory(prices={"EUR": "1"}).id
        with unit_of_work.unit():
            line_id = cart.add(as_contact(other), product, 1).id
        with pytest.raises(NotFound):
            cart.line_of(as_contact(buyer), line_id)


@pytest.mark.parametrize("contact_type", CONTACT_TYPES)
def test_admin_and_billing_contacts_buy_others_browse(app, contact_type):
    with app.app_context():
        contact = ContactFactory(contact_type=contact_type).id
        actor = as_contact(contact)
        buyer = contact_type in ("Admin", "Billing")
        assert rules.may_browse(actor)
        assert rules.may_check_out(actor) is buyer and rules.may_place_order(actor) is buyer
        assert rules.may_quote(actor) is buyer
        assert (rules.checkout_refusal(actor) is None) is buyer
        product = ProductFactory(prices={"USD": "1"}).id
        if not buyer:
            with pytest.raises(Forbidden):
                cart.add(actor, product, 1)


@pytest.mark.parametrize("contact_type", ["Admin", "Technical"])
def test_staff_in_portal_login_build_a_cart_and_quote_but_never_order(app, contact_type):
    with app.app_context():
        contact = ContactFactory(contact_type=contact_type).id
        actor = as_contact(contact, StaffUserFactory(role="staff"))
        assert actor.impersonated
        assert rules.may_check_out(actor) and rules.may_quote(actor) and not rules.may_place_order(actor)
        assert "only the contact can place the order" in rules.order_refusal(actor)
        product = ProductFactory(prices={"USD": "1"}).id
        assert cart.add(actor, product, 1).quantity == 1


def test_staff_and_the_system_are_not_buyers(app):
    with app.app_context():
        staff = actors.staff(StaffUserFactory(role="admin"))
        assert not rules.may_check_out(staff) and not rules.may_quote(staff) and not rules.may_browse(SYSTEM)
        assert rules.store_open(staff)
