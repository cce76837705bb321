"""The receipt of a payment: mailed to the customer's recipients of payment receipts (panel/contacts/
recipients.py: its Billing contacts, else the customer's e-mail) when a payment is recorded as Completed, or
a Pending one becomes Completed, whichever way that happens (staff's Record Payment and status change, a
Store order paid by wire, cheque or card, the worker).

The receipt says the amount, currency, date received, method and reference, what the payment was allocated
to and the balance after it. It is composed just before the unit of work commits (unit_of_work.before_commit),
so an allocation made later in the same request (a Store order's payment pays its invoice) is on it; the
message is queued in that transaction and delivered after the commit, so a request that fails or rolls
back sends nothing. Card and processor ids are never on it: a reference that looks like one is masked.
"""
import re
from decimal import Decimal

import sqlalchemy as sa

from panel import money, unit_of_work
from panel.contacts.recipients import Recipient
from panel.customers.models import Customer
from panel.extensions import db
from panel.invoices.balance import balance_of
from panel.invoices.mail_to_recipients import queue_to_recipients
from panel.invoices.models import Invoice, Payment, PaymentAllocation
from panel.mail.models import MailMessage

_DUE = "payment_receipts_due"
# Ids a card processor hands out (Stripe's and the like: a known prefix, then letters and at least one digit):
# never in a mail, whatever a reference holds.
PROCESSOR_ID = re.compile(r"\b(?:pi|ch|pm|py|seti|cus|src|card|tok|txn)_(?=[A-Za-z_]*\d)[A-Za-z0-9_]{6,}\b")


def receipt_due(payment: Payment) -> None:
    """Mail `payment`'s receipt when this unit of work commits (once, however often it is asked)."""
    due: list[Payment] = db.session.info.get(_DUE)
    if due is None:
        due = db.session.info[_DUE] = []
        unit_of_work.before_commit(_queue_due)
    if all(other is not payment for other in due):
        due.append(payment)


def _queue_due() -> None:
    for payment in db.session.info.pop(_DUE, []):
        state = sa.inspect(payment)
        if state.persistent and payment.status == "Completed":  # not undone by a savepoint, nor cancelled since
            queue_receipt(payment)


def masked(text: str) -> str:
    return PROCESSOR_ID.sub("[processor id]", text or "")


def receipt_text(payment: Payment, customer: Customer) -> str:
    cur = payment.currency
    rows = db.session.execute(
        sa.select(Invoice.number, PaymentAllocation.amount)
        .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
        .where(PaymentAllocation.payment_id == payment.id).order_by(Invoice.number)).all()
    allocated = sum((amount for _, amount in rows), Decimal(0))
    lines = [f"Payment receipt: {customer.name}", "",
             f"Amount:       {money.show(payment.amount, cur)} {cur}",
             f"Received on:  {payment.received_on:%Y-%m-%d}",
             f"Method:       {payment.method}",
             f"Reference:    {masked(payment.reference) or '—'}",
             f"Receipt no.:  P-{payment.id:06d}", "",
             "Allocated to:"]
    lines += [f"  {number:<20}{money.show(amount, cur):>14} {cur}" for number, amount in rows]
    rest = payment.amount - allocated
    if rest > 0:
        lines.append(f"  {'Not allocated':<20}{money.show(rest, cur):>14} {cur}  (credit on the account)")
    lines += ["", f"Balance after this payment: {money.show(balance_of(customer.id), cur)} {cur}"]
    return "\n".join(lines)


def _body(payment: Payment, customer: Customer, recipient: Recipient) -> str:
    return "\n".join([f"Hello {recipient.name},", "",
                      f"thank you: we have received a payment from {customer.name}.", "",
                      receipt_text(payment, customer), "", "--", recipient.why(customer.name)]) + "\n"


def queue_receipt(payment: Payment) -> list[MailMessage]:
    """One message per recipient of payment receipts, sent after the commit; nobody to send to: none."""
    customer = db.session.get(Customer, payment.customer_id)
    subject = (f"Payment receipt: {money.show(payment.amount, payment.currency)} {payment.currency} "
               f"received from {customer.name}")
    return queue_to_recipients(customer, "payment_receipt", subject, lambda r: _body(payment, customer, r),
                               f"payment {payment.id}'s receipt")
