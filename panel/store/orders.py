"""Orders and quotes after checkout: reading them, staff recording a wire or cheque payment, cancelling
before fulfilment, marking a shipment shipped, converting a quote into an order, copying one into a cart.

Status: Awaiting payment → Paid → Fulfilled, or Cancelled before fulfilment. A quote (Q-…) is valid until
its date and converts once (Order.quote_id is unique) into an order at the quoted prices.
"""
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from panel import access, pages
from panel.actor import Actor
from panel.customers.models import Customer
from panel.deployments.models import Deployment
from panel.extensions import db
from panel.invoices import payments
from panel.invoices.billing import paid_amounts, void_invoice
from panel.invoices.models import Invoice, Payment, PaymentAllocation
from panel.store import checkout, fulfilment, notices, payment, rules
from panel.store.models import ORDER_STATUSES, Cart, CartLine, Order, OrderLine, Product, Shipment
from panel.types import utcnow

PAYMENT_METHOD_OF = {"wire": "Bank transfer", "cheque": "Cheque"}
PAGE_SIZE = 50


class OrderRefused(Exception):
    """An order change that cannot be made: the message for the user, `field` the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# -- reading -----------------------------------------------------------------------------------------

def _page(statement, wanted: pages.PageRequest | None, size: int) -> pages.Page:
    """Newest first, on the shared keyset pages (panel/pages.py): First / Previous / Next / Last, never OFFSET."""
    return pages.keyset(db.session, statement, [Order.id.desc()], wanted or pages.FIRST, size)


def staff_orders(actor: Actor, *, status: str = "", customer_id: int | None = None, kind: str = "order",
                 wanted: pages.PageRequest | None = None, size: int = PAGE_SIZE) -> pages.Page:
    """Staff's Orders page, filtered by status and customer."""
    statement = sa.select(Order).where(Order.kind == kind)
    if status in ORDER_STATUSES:
        statement = statement.where(Order.status == status)
    if customer_id:
        statement = statement.where(Order.customer_id == customer_id)
    return _page(statement, wanted, size)


def customer_orders(actor: Actor, customer_id: int, kind: str, wanted: pages.PageRequest | None = None,
                    size: int = PAGE_SIZE) -> pages.Page:
    access.fetch_customer(actor, customer_id)
    return _page(sa.select(Order).where(Order.customer_id == customer_id, Order.kind == kind), wanted, size)


def by_number(actor: Actor, number: str, customer_id: int | None = None) -> Order:
    """The order or quote with this number within the actor's reach (404 otherwise)."""
    order_id = db.session.scalar(sa.select(Order.id).where(Order.number == (number or "")[:20]))
    return access.fetch(actor, Order, order_id, customer_id=customer_id,
                        message="There is no order with that number, or it is not yours to see.")


@dataclass
class OrderView:
    order: Order
    invoice: Invoice | None
    paid: Decimal
    payments: list
    shipment: Shipment | None
    converted_to: Order | None
    quote: Order | None
    labels: dict  # ("deployment", id) → "D-100001 · name", ("organisation", id) → customer name

    @property
    def expired(self) -> bool:
        return self.order.kind == "quote" and self.order.valid_until is not None and self.order.valid_until <= utcnow()


def view(order: Order) -> OrderView:
    invoice = db.session.get(Invoice, order.invoice_id) if order.invoice_id else None
    paid = paid_amounts([invoice.id]).get(invoice.id, Decimal(0)) if invoice else Decimal(0)
    rows = db.session.execute(
        sa.select(Payment, PaymentAllocation.amount).join(PaymentAllocation, PaymentAllocation.payment_id == Payment.id)
        .where(PaymentAllocation.invoice_id == invoice.id).order_by(Payment.id)).all() if invoice else []
    return OrderView(
        order=order, invoice=invoice, paid=paid, payments=rows,
        shipment=db.session.scalar(sa.select(Shipment).where(Shipment.order_id == order.id)),
        converted_to=db.session.scalar(sa.select(Order).where(Order.quote_id == order.id)),
        quote=db.session.get(Order, order.quote_id) if order.quote_id else None, labels=_labels(order))


def _labels(order: Order) -> dict:
    deployment_ids = {line.deployment_id for line in order.lines if line.deployment_id}
    organisation_ids = {line.organisation_id for line in order.lines if line.organisation_id}
    labels = {}
    if deployment_ids:
        for d in db.session.scalars(sa.select(Deployment).where(Deployment.id.in_(deployment_ids))):
            labels[("deployment", d.id)] = f"{d.deployment_number} · {d.name}"
    if organisation_ids:
        for customer_id, name in db.session.execute(sa.select(Customer.id, Customer.name)
                                                    .where(Customer.id.in_(organisation_ids))):
            labels[("organisation", customer_id)] = name
    return labels


# -- staff: payment, cancel, ship --------------------------------------------------------------------

def record_payment(actor: Actor, order: Order, method: str, reference: str, received_on: date | None = None) -> Payment:
    """A wire or cheque payment of the whole amount due, Completed and allocated to the order's invoice,
    which pays it; the order is then Paid and fulfilled at once. A reference already used on another
    order is refused (the same transfer cannot pay two orders)."""
    access.require(actor, order, write=True)
    order = fulfilment.locked_order(order.id)
    if order.kind != "order" or order.status != "Awaiting payment":
        raise OrderRefused(f"{order.number} is {order.status}; only an order awaiting payment takes a payment.")
    if method not in PAYMENT_METHOD_OF:
        raise OrderRefused("Choose Wire Transfer or Check.", "method")
    reference = " ".join((reference or "").split())
    if not reference:
        raise OrderRefused("Enter the payment's reference (the transfer's or the cheque's number).", "reference")
    if len(reference) > 100:
        raise OrderRefused("At most 100 characters.", "reference")
    used = db.session.scalar(paid_with(reference, order.id))
    if used:
        raise OrderRefused(f"The reference {reference} already paid {used}.", "reference")
    try:
        return fulfilment.take_payment(actor, order, PAYMENT_METHOD_OF[method], reference, received_on)
    except payments.PaymentRefused as error:
        raise OrderRefused(str(error)) from None


def paid_with(reference: str, other_than: int):
    """The number of an order other than `other_than` that a payment with this reference (in any case) paid: a
    look-up of ix_payment_reference_lower (migration 0032)."""
    return (sa.select(Order.number).join(PaymentAllocation, PaymentAllocation.invoice_id == Order.invoice_id)
            .join(Payment, Payment.id == PaymentAllocation.payment_id)
            .where(sa.func.lower(Payment.reference) == reference.lower(), Order.id != other_than).limit(1))


def cancel(actor: Actor, order: Order, reason: str) -> Order:
    """Cancel an order before anything of it is fulfilled: its invoice is voided (which takes back the
    payments allocated to it), a card payment is refunded through the processor first."""
    access.require(actor, order, write=True)
    order = fulfilment.locked_order(order.id)
    reason = " ".join((reason or "").split())[:500]
    if not reason:
        raise OrderRefused("Say why the order is cancelled.", "reason")
    if order.kind != "order" or order.status not in ("Awaiting payment", "Paid"):
        raise OrderRefused(f"{order.number} is {order.status}; it can no longer be cancelled.")
    if db.session.scalar(sa.select(sa.func.count()).where(OrderLine.order_id == order.id,
                                                          OrderLine.fulfilled_at.is_not(None))):
        raise OrderRefused(f"Part of {order.number} is fulfilled already; it can no longer be cancelled.")
    if order.payment_method == "card" and order.status == "Paid":
        try:
            payment.refund_card(actor, order)
        except payment.CardPaymentRefused as error:
            raise OrderRefused(str(error)) from None
    invoice = db.session.get(Invoice, order.invoice_id) if order.invoice_id else None
    if invoice is not None and invoice.status != "void":
        void_invoice(actor, invoice, f"Order {order.number} cancelled: {reason}"[:500])
    order.status, order.cancelled_at, order.cancel_reason = "Cancelled", utcnow(), reason
    db.session.flush()
    return order


def retry_card(actor: Actor, order: Order, card_choice: str) -> Order:
    """Pay an order awaiting a card payment (its first charge declined) with a card again; OrderRefused with
    the processor's message by the card field when it is not paid. A charge already made is never made twice."""
    access.require(actor, order)
    if actor.in_portal and not rules.may_place_order(actor):
        raise OrderRefused("Only Admin and Billing contacts pay orders (not in Portal Login).")
    if order.kind != "order" or order.status != "Awaiting payment":
        raise OrderRefused(f"{order.number} is {order.status}; there is nothing to pay.")
    if order.payment_method != "card":
        raise OrderRefused(f"{order.number} is paid by {order.payment_method}.")
    try:
        payment.pay_by_card(actor, order, card_choice)
    except payment.CardPaymentRefused as error:
        raise OrderRefused(str(error), "card_choice") from None
    return order


def mark_shipped(actor: Actor, order: Order, tracking_reference: str) -> Shipment:
    access.require(actor, order, write=True)
    order = fulfilment.locked_order(order.id)
    shipment = db.session.scalar(sa.select(Shipment).where(Shipment.order_id == order.id))
    if shipment is None:
        raise OrderRefused(f"{order.number} has nothing to ship yet (it ships once it is paid).")
    if shipment.status == "Shipped":
        raise OrderRefused(f"{order.number} was shipped already ({shipment.tracking_reference}).")
    tracking = " ".join((tracking_reference or "").split())
    if not tracking:
        raise OrderRefused("Enter the tracking reference.", "tracking_reference")
    if len(tracking) > 100:
        raise OrderRefused("At most 100 characters.", "tracking_reference")
    shipment.status, shipment.tracking_reference, shipment.shipped_at = "Shipped", tracking, utcnow()
    shipment.shipped_by = actor.audit_fields()["user_label"][:200]
    db.session.flush()
    notices.shipped(order, tracking)
    return shipment


# -- quotes ------------------------------------------------------------------------------------------

def convert_quote(actor: Actor, quote: Order, payment_method: str, terms: bool, card_choice: str = "") -> Order:
    """The order of a quote that has not expired, at the quoted prices, once only."""
    access.require(actor, quote, write=not actor.in_portal)
    if actor.in_portal and not rules.may_place_order(actor):
        raise OrderRefused("Only Admin and Billing contacts convert quotes into orders (not in Portal Login).")
    quote = fulfilment.locked_order(quote.id)
    if quote.kind != "quote":
        raise OrderRefused(f"{quote.number} is not a quote.")
    if quote.status == "Converted" or db.session.scalar(sa.select(Order.number).where(Order.quote_id == quote.id)):
        raise OrderRefused(f"{quote.number} has been converted into an order already.")
    if quote.valid_until is not None and quote.valid_until <= utcnow():
        raise OrderRefused(f"{quote.number} expired on {quote.valid_until:%Y-%m-%d}: copy it into your cart to "
                           "order it at today's prices.")
    errors: dict[str, str] = {}
    method = checkout._check_payment(checkout.Submission(payment_method=payment_method), errors)
    if errors:
        raise OrderRefused(errors["payment_method"], "payment_method")
    if not terms:
        raise OrderRefused("Tick the box to agree to the Terms and Conditions.", "terms")
    for line in quote.lines:  # what was chosen must still be there
        if line.deployment_id is not None:
            deployment = db.session.get(Deployment, line.deployment_id)
            if deployment is None or deployment.status != "Active":
                raise OrderRefused(f"{line.name}: its deployment is no longer active; copy the quote into your "
                                   "cart and choose another.")
    order = Order(kind="order", customer_id=quote.customer_id,
                  contact_id=actor.contact.id if actor.in_portal else quote.contact_id,
                  placed_by=actor.audit_fields()["user_label"][:200], status="Awaiting payment",
                  currency=quote.currency, subtotal=quote.subtotal, shipping_amount=quote.shipping_amount,
                  total=quote.total, payment_method=method, po_number=quote.po_number,
                  terms_version=checkout.terms_version(), shipping_rate_id=quote.shipping_rate_id,
                  shipping_rate_name=quote.shipping_rate_name, shipping_address=quote.shipping_address,
                  quote_id=quote.id)
    order.lines = [OrderLine(
        customer_id=line.customer_id, position=line.position, product_id=line.product_id, sku=line.sku,
        name=line.name, kind=line.kind, unit_price=line.unit_price, quantity=line.quantity, amount=line.amount,
        credits=line.credits, plan=line.plan, term_months=line.term_months, deployment_id=line.deployment_id,
        organisation_id=line.organisation_id) for line in quote.lines]
    try:
        with db.session.begin_nested():
            order.number = checkout._number(False)
            db.session.add(order)
            db.session.flush()
    except IntegrityError:
        raise OrderRefused(f"{quote.number} has been converted into an order already.") from None
    quote.status = "Converted"
    checkout._invoice(order)
    db.session.flush()
    if method == "card":
        try:
            payment.pay_by_card(actor, order, card_choice)
        except payment.CardPaymentRefused as error:
            if payment.last_charge(order) is None:
                raise OrderRefused(str(error), "card_choice") from None
    notices.order_placed(order)
    return order


def copy_to_cart(actor: Actor, quote: Order) -> tuple[int, list[str]]:
    """Put a quote's products into the contact's cart at today's prices: (lines added, what was left out)."""
    access.require(actor, quote)
    if not actor.in_portal:
        raise OrderRefused("Only the customer's contacts have carts.")
    customer = db.session.get(Customer, actor.customer_id)
    cart = db.session.scalar(sa.select(Cart).where(Cart.contact_id == actor.contact.id))
    if cart is None:
        cart = Cart(contact_id=actor.contact.id, customer_id=customer.id)
        db.session.add(cart)
        db.session.flush()
    added, left_out = 0, []
    for line in quote.lines:
        product = db.session.get(Product, line.product_id) if line.product_id else None
        if product is None or product.retired_at is not None or product.price_in(customer.currency) is None:
            left_out.append(line.name)
            continue
        present = db.session.scalar(sa.select(CartLine).where(CartLine.cart_id == cart.id,
                                                              CartLine.product_id == product.id))
        if present is not None:
            present.quantity += line.quantity
        else:
            db.session.add(CartLine(cart_id=cart.id, product_id=product.id, quantity=line.quantity))
        added += 1
    db.session.flush()
    return added, left_out
