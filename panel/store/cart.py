"""A contact's cart, kept on the server (it survives sign-out): add a product, set a line's quantity, remove
a line, and read the lines at today's prices with the subtotal. A product retired since, or no longer priced
in the customer's currency, stays in the cart marked unavailable (and counts for nothing) until removed.

Who may use a cart is panel/store/rules.py's answer; a line of another contact's cart is not found (404).
The cart is not audited (nothing is bought yet): the order made from it is.
"""
import functools
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import abort

from panel import money
from panel.access import NOT_FOUND
from panel.actor import Actor
from panel.customers.models import Customer
from panel.extensions import db
from panel.store import catalogue, rules
from panel.store.models import Cart, CartLine, Product, ProductPrice

MAX_QUANTITY = 999


class CartError(ValueError):
    """A change the cart refuses (the message is shown by the quantity field)."""


@dataclass(frozen=True)
class Line:
    line: CartLine
    product: Product
    unit_price: Decimal | None     # today's price in the customer's currency; None: unavailable
    amount: Decimal

    @property
    def available(self) -> bool:
        return self.unit_price is not None

    @property
    def unavailable_reason(self) -> str:
        if self.product.retired_at is not None:
            return "No longer sold"
        return "" if self.available else "Not sold in your currency"


@dataclass(frozen=True)
class CartView:
    currency: str
    lines: list[Line]
    subtotal: Decimal

    @property
    def count(self) -> int:
        return sum(line.line.quantity for line in self.lines if line.available)

    @property
    def has_unavailable(self) -> bool:
        return any(not line.available for line in self.lines)


def _require_buyer(actor: Actor) -> None:
    if not rules.may_check_out(actor):
        abort(403, rules.checkout_refusal(actor))


def currency_of(actor: Actor) -> str:
    if actor.in_portal:
        return actor.contact.customer.currency  # held by the contact for the request (access.fetch_customer)
    return db.session.scalar(sa.select(Customer.currency).where(Customer.id == actor.customer_id))


def cart_of(actor: Actor, create: bool = False) -> Cart | None:
    """The actor's contact's cart (made on the first add, not by looking)."""
    if not actor.in_portal:
        abort(404, NOT_FOUND)
    cart = db.session.scalar(sa.select(Cart).where(Cart.contact_id == actor.contact.id))
    if cart is None and create:
        cart = Cart(contact_id=actor.contact.id, customer_id=actor.contact.customer_id)
        db.session.add(cart)
        db.session.flush()
    return cart


def _quantity(quantity: int) -> int:
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= MAX_QUANTITY:
        raise CartError(f"Enter a quantity from 1 to {MAX_QUANTITY}.")
    return quantity


def add(actor: Actor, product_id: int, quantity: int = 1) -> CartLine:
    """Add `quantity` of a product the customer sees; a product already in the cart gets the quantities added."""
    _require_buyer(actor)
    quantity = _quantity(quantity)
    if catalogue.item(currency_of(actor), product_id) is None:
        raise CartError("This product is not available.")
    cart = cart_of(actor, create=True)
    line = next((line for line in cart.lines if line.product_id == product_id), None)
    if line is None:
        line = CartLine(product_id=product_id, quantity=quantity)
        cart.lines.append(line)
    else:
        if line.quantity + quantity > MAX_QUANTITY:
            raise CartError(f"At most {MAX_QUANTITY} of one item: you have {line.quantity} in your cart.")
        line.quantity += quantity
    db.session.flush()
    return line


def line_of(actor: Actor, line_id: int) -> CartLine:
    """A line of the actor's own cart; any other line is not found."""
    if not actor.in_portal:
        abort(404, NOT_FOUND)
    line = db.session.scalar(sa.select(CartLine).join(Cart, Cart.id == CartLine.cart_id)
                             .where(CartLine.id == line_id, Cart.contact_id == actor.contact.id))
    if line is None:
        abort(404, "That item is not in your cart.")
    return line


def set_quantity(actor: Actor, line: CartLine, quantity: int) -> CartLine:
    _require_buyer(actor)
    quantity = _quantity(quantity)
    if line.quantity != quantity:
        line.quantity = quantity
        db.session.flush()
    return line


def remove(actor: Actor, line: CartLine) -> None:
    _require_buyer(actor)
    line.cart.lines.remove(line)
    db.session.flush()


@functools.cache
def _lines_at_todays_prices() -> sa.Select:
    """One query: each line of a contact's cart with its product and the product's price in a currency (None: not
    sold in it). Built once, with bound parameters, because building it (and its cache key) cost more than running it
    on every Store page, cart change and checkout; built on first use so that the mappers are configured by then."""
    return (sa.select(CartLine, ProductPrice.amount).join(Cart, Cart.id == CartLine.cart_id)
            .join(CartLine.product)
            .outerjoin(ProductPrice, sa.and_(ProductPrice.product_id == CartLine.product_id,
                                             ProductPrice.currency == sa.bindparam("currency")))
            .where(Cart.contact_id == sa.bindparam("contact_id"))
            .options(so.contains_eager(CartLine.product)).order_by(CartLine.id))


def view(actor: Actor) -> CartView:
    """The cart's lines at today's prices and the subtotal of the available ones."""
    currency = currency_of(actor)
    if not actor.in_portal:
        abort(404, NOT_FOUND)
    rows = db.session.execute(_lines_at_todays_prices(), {"contact_id": actor.contact.id, "currency": currency})
    found = []
    for line, price in rows:
        product = line.product
        unit_price = price if product.retired_at is None else None
        amount = money.billed(unit_price * line.quantity, currency) if unit_price is not None else Decimal(0)
        found.append(Line(line, product, unit_price, amount))
    subtotal = sum((line.amount for line in found), Decimal(0))
    return CartView(currency, found, subtotal)


def empty(actor: Actor) -> None:
    """Empty the cart (checkout calls this once the order or quote is written)."""
    cart = cart_of(actor)
    if cart is not None:
        cart.lines.clear()
        db.session.flush()
