"""Checkout: a contact's cart becomes one order (O-…) with its invoice, or a quote (Q-…).

Everything the page showed is checked again here on the server: who may buy, each product (still sold,
priced in the customer's currency, at today's price), each line's deployment (reachable, active, of the
product's line) and organisation (a customer the contact may act for), shipping, the payment method, the
PO number and the terms. The order, its lines, its invoice and the emptied cart are one transaction.

One checkout makes one order: the page carries a token made when it was rendered, `Order.checkout_token`
is unique in the database, and a second press, a second tab or a retry after a timeout finds the order
the first one made (ten simultaneous presses: one inserts, the others wait on the unique index, fail,
and read the committed order; tests/store/test_checkout_concurrency.py).
"""
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from panel import access, money
from panel.actor import Actor
from panel.customers.models import Customer
from panel.deployments.models import Deployment
from panel.extensions import db
from panel.forms import CONTROL
from panel.invoices.billing import SEQUENCE as INVOICE_SEQUENCE
from panel.invoices.models import Invoice, InvoiceLine
from panel.options import get_option, get_options
from panel.sequences import next_value
from panel.store import notices, payment, rules
from panel.store.models import (
    DEPLOYMENT_KINDS,
    ORGANISATION_KINDS,
    PAYMENT_METHODS,
    SHIPPED_KINDS,
    Cart,
    CartLine,
    Order,
    OrderLine,
    Product,
    ShippingRate,
)
from panel.types import utcnow

ORDER_SEQUENCE = "store_order"
QUOTE_SEQUENCE = "store_quote"
TERMS_OPTION = "store_terms_version"
QUOTE_DAYS_OPTION = "store_quote_days"
DEFAULT_QUOTE_DAYS = 30
MAX_ORGANISATIONS = 500


class CheckoutRefused(Exception):
    """The checkout cannot go ahead: {field name: message}, shown by each field ("form": the whole form)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass
class Submission:
    """What the checkout form sent, as text (the route does no checking: this module does)."""

    token: str = ""
    deployments: dict[int, str] = field(default_factory=dict)     # cart line id → deployment id
    organisations: dict[int, str] = field(default_factory=dict)   # cart line id → customer id
    shipping_rate_id: str = ""
    shipping_address: str = ""
    payment_method: str = ""
    quote: bool = False
    has_po: bool = False
    po_number: str = ""
    terms: bool = False
    card_choice: str = ""
    # The SetupIntent the panel started for this checkout (its token) in this session: a new card's must be it.
    issued_setup_intent: str | None = None


def intent_purpose(token: str) -> str:
    """What the session keeps a checkout's SetupIntent under (panel/cards/section.py `issued_for`)."""
    return f"checkout:{(token or '')[:64]}"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def _whole(text) -> int | None:
    text = str(text or "").strip()
    return int(text) if text.isdigit() and len(text) <= 10 and int(text) <= 2**31 - 1 else None


def terms_version() -> int:
    return _whole(get_option(TERMS_OPTION)) or 1


def page_texts() -> tuple[int, dict[str, str]]:
    """What the checkout page shows of the store's settings, in one read: the terms' version and the wire and
    cheque instructions (as terms_version and notices.instructions answer them)."""
    values = get_options(TERMS_OPTION, notices.WIRE_OPTION, notices.CHEQUE_OPTION)
    return _whole(values[TERMS_OPTION]) or 1, {"wire": values[notices.WIRE_OPTION].strip(),
                                               "cheque": values[notices.CHEQUE_OPTION].strip()}


def quote_days() -> int:
    days = _whole(get_option(QUOTE_DAYS_OPTION))
    return days if days and days <= 3650 else DEFAULT_QUOTE_DAYS


# -- what the page shows -----------------------------------------------------------------------------

def cart_lines(actor: Actor) -> list[CartLine]:
    """The contact's cart, oldest line first, with the products."""
    if not actor.in_portal:
        return []
    return list(db.session.scalars(
        sa.select(CartLine).join(Cart, Cart.id == CartLine.cart_id).where(Cart.contact_id == actor.contact.id)
        .options(sa.orm.joinedload(CartLine.product).selectinload(Product.prices)).order_by(CartLine.id)))


def organisations(actor: Actor) -> list[tuple[int, str]]:
    """(id, name) of every customer the contact may act for: their own, and an Admin's whole tree."""
    if actor.in_portal and not actor.manages_tree:
        own = actor.contact.customer  # held for the request: no query for a contact without a tree
        return [(own.id, own.name)]
    within = access.customer_ids_within(actor)
    statement = sa.select(Customer.id, Customer.name).order_by(Customer.name, Customer.id).limit(MAX_ORGANISATIONS)
    if within is not None:
        statement = statement.where(Customer.id.in_(within))
    return [(row.id, row.name) for row in db.session.execute(statement)]


def shipping_rates(currency: str) -> list[ShippingRate]:
    return list(db.session.scalars(sa.select(ShippingRate).where(
        ShippingRate.currency == currency, ShippingRate.retired_at.is_(None))
        .order_by(ShippingRate.position, ShippingRate.name)))


def default_address(customer: Customer) -> str:
    """The customer's shipping address, or its billing address when it ships to the billing address."""
    prefix = "billing" if customer.shipping_same_as_billing else "shipping"
    parts = [getattr(customer, f"{prefix}_{name}") for name in ("line1", "line2", "city", "region", "postal_code",
                                                                 "country")]
    if not any(parts):  # nothing entered there: the mailing address
        parts = [customer.address_line1, customer.address_line2, customer.city, customer.region,
                 customer.postal_code, customer.country]
    return "\n".join(part for part in parts if part)


@dataclass
class Priced:
    """A cart line at today's price."""

    line: CartLine
    unit_price: Decimal | None

    @property
    def amount(self) -> Decimal:
        return (self.unit_price or Decimal(0)) * self.line.quantity


def priced(lines: list[CartLine], currency: str) -> list[Priced]:
    rows = []
    for line in lines:
        price = line.product.price_in(currency)
        sold = line.product.retired_at is None and price is not None
        rows.append(Priced(line, money.billed(price.amount, currency) if sold else None))
    return rows


def needs_shipping(lines) -> bool:
    return any((getattr(line, "product", None) or line).kind in SHIPPED_KINDS for line in lines)


def totals(rows: list[Priced], rate: ShippingRate | None, currency: str) -> tuple[Decimal, Decimal, Decimal]:
    subtotal = sum((money.billed(row.amount, currency) for row in rows), Decimal(0))
    shipping = money.billed(rate.amount, currency) if rate is not None else Decimal(0)
    return subtotal, shipping, subtotal + shipping


def rate_for(currency: str, rate_id) -> ShippingRate | None:
    rate = db.session.get(ShippingRate, _whole(rate_id)) if _whole(rate_id) else None
    if rate is None or rate.currency != currency or rate.retired_at is not None:
        return None
    return rate


# -- checks ------------------------------------------------------------------------------------------

def _deployment_for(actor: Actor, product: Product, text: str, errors: dict, key: str) -> int | None:
    deployment = db.session.get(Deployment, _whole(text)) if _whole(text) else None
    if deployment is None or not access.can_see_customer(actor, deployment.customer_id):
        errors[key] = "Search for a deployment and pick it from the list."
        return None
    if deployment.status != "Active":
        errors[key] = f"{deployment.deployment_number} is {deployment.status}; pick an active deployment."
        return None
    if product.product_line and deployment.product != product.product_line:
        errors[key] = f"{product.name} is for {product.product_line} deployments; {deployment.deployment_number} " \
                      f"is a {deployment.product}."
        return None
    return deployment.id


def _organisation_for(actor: Actor, text: str, errors: dict, key: str) -> int | None:
    customer_id = _whole(text)
    if customer_id is None or not access.can_see_customer(actor, customer_id) \
            or db.session.get(Customer, customer_id) is None:
        errors[key] = "Choose one of your organisations."
        return None
    return customer_id


def _check_payment(submission: Submission, errors: dict) -> str:
    method = submission.payment_method
    if submission.quote:
        return method if method in PAYMENT_METHODS else ""
    if method not in PAYMENT_METHODS:
        errors["payment_method"] = "Choose how you will pay: Credit Card, Wire Transfer or Check."
    elif method == "card" and not payment.cards_configured():
        errors["payment_method"] = "Credit card payments are not available; choose Wire Transfer or Check."
    elif method == "card":
        wrong = payment.new_card_refusal(submission.card_choice, submission.issued_setup_intent)
        if wrong:
            errors["card_choice"] = wrong
    return method


def _po(submission: Submission, errors: dict) -> str:
    if not submission.has_po:
        return ""
    po = " ".join((submission.po_number or "").split())
    if CONTROL.search(po):
        errors["po_number"] = "Remove the control characters from this field."
    elif not po:
        errors["po_number"] = "Enter your reference or PO number (or answer No)."
    elif len(po) > 100:
        errors["po_number"] = "At most 100 characters."
    return po[:100]


# -- placing -----------------------------------------------------------------------------------------

def existing(actor: Actor, token: str) -> Order | None:
    """The order (or quote) this checkout token already made for this contact's customer, if any."""
    if not token:
        return None
    order = db.session.scalar(sa.select(Order).where(Order.checkout_token == token[:64]))
    if order is not None and order.customer_id != actor.customer_id:
        return None  # another customer's token (a forged field) is no one's order here
    return order


def place(actor: Actor, submission: Submission) -> Order:
    """The order (or, with `quote`, the quote) of the contact's cart; CheckoutRefused with a message per
    field when anything is not right, and nothing written. Pressing again with the same token answers the
    same order."""
    if not (rules.may_quote(actor) if submission.quote else rules.may_place_order(actor)):
        raise CheckoutRefused({"form": "Only Admin and Billing contacts place orders." if not actor.impersonated
                               else "In Portal Login you may save a quote, but not place an order or pay."})
    token = (submission.token or "")[:64]
    if len(token) < 20:
        raise CheckoutRefused({"form": "This checkout page is out of date: open the checkout again."})
    found = existing(actor, token)
    if found is not None:
        return found
    customer = access.fetch_customer(actor, actor.customer_id)
    lines = cart_lines(actor)
    if not lines:
        raise CheckoutRefused({"form": "Your cart is empty."})
    errors: dict[str, str] = {}
    rows = priced(lines, customer.currency)
    order_lines = []
    for position, row in enumerate(rows, start=1):
        product, line = row.line.product, row.line
        if row.unit_price is None:
            errors[f"line-{line.id}"] = f"{product.name} is no longer sold in {customer.currency}: remove it."
            continue
        deployment_id = organisation_id = None
        if product.kind in DEPLOYMENT_KINDS:
            deployment_id = _deployment_for(actor, product, submission.deployments.get(line.id, ""), errors,
                                            f"deployment-{line.id}")
        if product.kind in ORGANISATION_KINDS:
            organisation_id = _organisation_for(actor, submission.organisations.get(line.id, ""), errors,
                                                f"organisation-{line.id}")
        order_lines.append(OrderLine(
            customer_id=customer.id, position=position, product_id=product.id, sku=product.sku, name=product.name,
            kind=product.kind, unit_price=row.unit_price, quantity=line.quantity,
            amount=money.billed(row.amount, customer.currency), credits=product.credits, plan=product.plan,
            term_months=product.term_months, deployment_id=deployment_id, organisation_id=organisation_id))
    rate, address = None, ""
    if needs_shipping(lines):
        rate = rate_for(customer.currency, submission.shipping_rate_id)
        if rate is None:
            errors["shipping_rate_id"] = "Choose a shipping rate."
        address = "\n".join(line.strip() for line in (submission.shipping_address or "").splitlines()
                            if line.strip())[:1000]
        if CONTROL.search(address.replace("\n", " ")):
            errors["shipping_address"] = "Remove the control characters from this field."
        elif not address:
            errors["shipping_address"] = "Enter the address to ship to."
    method = _check_payment(submission, errors)
    po = _po(submission, errors)
    if not submission.terms:
        errors["terms"] = "Tick the box to agree to the Terms and Conditions."
    if errors:
        raise CheckoutRefused(errors)
    subtotal, shipping, total = totals([r for r in rows if r.unit_price is not None], rate, customer.currency)
    order = Order(
        kind="quote" if submission.quote else "order", customer_id=customer.id, contact_id=actor.contact.id,
        placed_by=actor.audit_fields()["user_label"][:200],
        status="Quote" if submission.quote else "Awaiting payment", currency=customer.currency,
        subtotal=subtotal, shipping_amount=shipping, total=total, payment_method=method, po_number=po,
        terms_version=terms_version(), shipping_rate_id=rate.id if rate else None,
        shipping_rate_name=rate.name if rate else "", shipping_address=address, checkout_token=token,
        valid_until=utcnow() + timedelta(days=quote_days()) if submission.quote else None)
    order.lines = order_lines
    try:
        with db.session.begin_nested():  # the number and the row together: a lost race takes back both
            order.number = _number(submission.quote)
            db.session.add(order)
            db.session.flush()
    except IntegrityError:
        found = existing(actor, token)
        if found is None:  # a token another customer's order holds: a forged or pasted field
            raise CheckoutRefused({"form": "This checkout page is out of date: open the checkout again."}) from None
        return found
    if not submission.quote:
        _invoice(order)
    for line in lines:
        db.session.delete(line)
    db.session.flush()
    if submission.quote:
        notices.quote_saved(order)
    else:
        if method == "card":
            try:
                payment.pay_by_card(actor, order, submission.card_choice)
            except payment.CardPaymentRefused as error:
                if payment.last_charge(order) is None:  # nothing was asked of the processor: nothing is kept
                    raise CheckoutRefused({"card_choice": str(error)}) from None
                # The order is committed with its declined (or unknown) charge: its page says so, with Retry.
        notices.order_placed(order)
    return order


def _number(quote: bool) -> str:
    if quote:
        return f"Q-{next_value(QUOTE_SEQUENCE):06d}"
    return f"O-{next_value(ORDER_SEQUENCE):06d}"


def _invoice(order: Order) -> Invoice:
    """The order's invoice (kind "store"): its lines are the order's lines, and its shipping."""
    day = order.created_at.replace(hour=0, minute=0, second=0, microsecond=0) if order.created_at else \
        utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    invoice = Invoice(number=f"INV-{next_value(INVOICE_SEQUENCE):06d}", kind="store", customer_id=order.customer_id,
                      time_frame="order", period_start=day, period_end=day + timedelta(days=1),
                      currency=order.currency, total=order.total, status="issued" if order.total > 0 else "paid",
                      created_by=order.placed_by)
    for line in order.lines:
        invoice.lines.append(InvoiceLine(customer_id=order.customer_id, position=line.position,
                                         description=f"{order.number} {line.sku} {line.name} × {line.quantity}"[:200],
                                         charge=line.amount))
    if order.shipping_amount:
        invoice.lines.append(InvoiceLine(customer_id=order.customer_id, position=len(order.lines) + 1,
                                         description=f"{order.number} shipping: {order.shipping_rate_name}"[:200],
                                         charge=order.shipping_amount))
    db.session.add(invoice)
    db.session.flush()
    order.invoice_id = invoice.id
    if invoice.status == "paid":  # nothing to pay: paid as made, fulfilled by the worker's next pass
        order.status, order.paid_at = "Paid", utcnow()
    return invoice
