"""The Store's mail: order confirmation, quote, payment instructions, payment received, shipped.

Each goes to the contact who ordered and the customer's Billing contacts, queued in the change's own
transaction and sent once it commits (panel/mail/outbox.py), like every other mail of the panel.
"""
import sqlalchemy as sa

from panel import money
from panel.contacts.models import Contact
from panel.contacts.recipients import recipients as mail_recipients
from panel.customers.models import Customer
from panel.extensions import db
from panel.mail import outbox
from panel.options import get_option
from panel.store.models import PAYMENT_METHODS, Order

WIRE_OPTION = "store_wire_instructions"
CHEQUE_OPTION = "store_cheque_instructions"


def recipients(order: Order) -> list[str]:
    """The ordering contact and the customer's active Billing contacts, each address once."""
    addresses = []
    if order.contact_id is not None:
        contact = db.session.get(Contact, order.contact_id)
        if contact is not None and contact.email:
            addresses.append(contact.email)
    addresses += db.session.scalars(sa.select(Contact.email).where(
        Contact.customer_id == order.customer_id, Contact.contact_type == "Billing", Contact.active.is_(True),
        Contact.email != "").order_by(Contact.id)).all()
    seen, unique = set(), []
    for address in addresses:
        if address.lower() not in seen:
            seen.add(address.lower())
            unique.append(address)
    return unique


def instructions(method: str) -> str:
    """What the customer is told to do for a wire transfer or a cheque (Settings → Store)."""
    option = {"wire": WIRE_OPTION, "cheque": CHEQUE_OPTION}.get(method)
    return get_option(option).strip() if option else ""


def _lines(order: Order) -> str:
    rows = [f"  {line.sku}  {line.name} × {line.quantity}  {money.show(line.amount, order.currency)} {order.currency}"
            for line in order.lines]
    if order.shipping_amount:
        rows.append(f"  Shipping ({order.shipping_rate_name})  {money.show(order.shipping_amount, order.currency)}")
    rows.append(f"  Total  {money.show(order.total, order.currency)} {order.currency}")
    return "\n".join(rows)


def _send(order: Order, subject: str, body: str, skip: frozenset[str] = frozenset()) -> None:
    for address in recipients(order):
        if address.lower() in skip:
            continue
        try:
            message = outbox.queue_mail(address, subject, body)
        except ValueError:
            continue  # an address the outbox cannot use is skipped, never the order
        outbox.deliver_after_commit(message)


def order_placed(order: Order) -> None:
    body = (f"Thank you for your order {order.number}.\n\n{_lines(order)}\n\n"
            f"Payment: {PAYMENT_METHODS.get(order.payment_method, order.payment_method)}"
            + (f"\nReference / PO: {order.po_number}" if order.po_number else "") + "\n")
    _send(order, f"Order {order.number} received", body)
    text = instructions(order.payment_method)
    if order.status == "Awaiting payment" and order.payment_method in ("wire", "cheque"):
        how = PAYMENT_METHODS[order.payment_method]
        _send(order, f"How to pay order {order.number}",
              f"Order {order.number} waits for your payment of {money.show(order.total, order.currency)} "
              f"{order.currency} by {how}. Nothing is delivered until it arrives.\n\n"
              f"Please quote {order.number} with your payment.\n\n{text}\n")


def quote_saved(order: Order) -> None:
    _send(order, f"Quote {order.number}",
          f"Your quote {order.number}, valid until {order.valid_until:%Y-%m-%d} (UTC):\n\n{_lines(order)}\n\n"
          "Convert it to an order under Orders → Quotes in the portal before then.\n")


def payment_received(order: Order) -> None:
    """To whoever the payment's receipt does not reach: the receipt (panel/invoices/payment_receipts.py) goes to
    the customer's recipients of payment receipts (its Billing contacts), so one payment makes one mail each and
    this one is for the ordering contact when they are not among them."""
    receipted = frozenset(r.email.lower() for r in mail_recipients(db.session.get(Customer, order.customer_id), "payment_receipt"))
    _send(order, f"Payment received for order {order.number}",
          f"We have received the payment of {money.show(order.total, order.currency)} {order.currency} "
          f"for order {order.number}. Thank you.\n", skip=receipted)


def shipped(order: Order, tracking_reference: str) -> None:
    _send(order, f"Order {order.number} has shipped",
          f"Order {order.number} has shipped. Tracking reference: {tracking_reference}\n")
