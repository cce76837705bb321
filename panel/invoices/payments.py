"""Payments: recording them, moving them from Pending to Completed or Cancelled, and allocating them.

Only a Completed payment counts toward the balance and only a Completed payment is allocated to
invoices; a payment that is Completed (recorded so, or moved there) gets a receipt by mail
(panel/invoices/payment_receipts.py). An invoice whose allocations cover its total is paid; cancelling a payment takes its
allocations back (audited), so the invoices it paid are due again.
"""
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from panel import access, money
from panel.actor import Actor
from panel.customers.models import Customer
from panel.extensions import db
from panel.invoices.billing import paid_amounts
from panel.invoices.models import Invoice, Payment, PaymentAllocation
from panel.invoices.payment_receipts import receipt_due
from panel import pages

NEXT_STATUSES = {"Pending": ("Completed", "Cancelled"), "Completed": ("Cancelled",), "Cancelled": ()}


class PaymentRefused(Exception):
    """A payment change that cannot be made; the message says why, for the user."""


def record_payment(actor: Actor, customer: Customer, values: dict) -> Payment:
    access.require(actor, customer, write=True)
    payment = Payment(customer_id=customer.id, currency=customer.currency,
                      created_by=actor.audit_fields()["user_label"], **values)
    db.session.add(payment)
    db.session.flush()
    if payment.status == "Completed":
        receipt_due(payment)  # mailed as the unit of work commits, with what it was allocated to by then
    return payment


def allocated(payment_ids: list[int]) -> dict[int, Decimal]:
    if not payment_ids:
        return {}
    rows = db.session.execute(
        sa.select(PaymentAllocation.payment_id, sa.func.sum(PaymentAllocation.amount))
        .where(PaymentAllocation.payment_id.in_(payment_ids)).group_by(PaymentAllocation.payment_id)).all()
    return {payment_id: Decimal(total) for payment_id, total in rows}


def _locked(model, row_id: int):
    return db.session.scalar(sa.select(model).where(model.id == row_id).with_for_update().execution_options(
        populate_existing=True))


def _refresh_status(invoice: Invoice) -> None:
    """Paid exactly when its allocations cover the total (both in the currency's minor unit, so an
    allocation of what is shown as due settles it), issued again when they no longer do (void stays void)."""
    if invoice.status == "void":
        return
    paid = paid_amounts([invoice.id]).get(invoice.id, Decimal(0))
    invoice.status = "paid" if paid >= invoice.total else "issued"


def set_status(actor: Actor, payment: Payment, status: str) -> None:
    access.require(actor, payment, write=True)
    payment = _locked(Payment, payment.id)
    if status not in NEXT_STATUSES[payment.status]:
        raise PaymentRefused(f"A {payment.status} payment cannot become {status}.")
    invoices = []
    if status == "Cancelled":
        for allocation in list(payment.allocations):
            invoices.append(allocation.invoice)
            db.session.delete(allocation)
        db.session.flush()
    payment.status = status
    for invoice in invoices:
        _refresh_status(invoice)
    if status == "Completed":
        receipt_due(payment)


@dataclass
class OpenInvoice:
    invoice: Invoice
    paid: Decimal

    @property
    def due(self) -> Decimal:
        return self.invoice.total - self.paid


def open_invoices(actor: Actor, customer_id: int, limit: int = 200) -> list[OpenInvoice]:
    """Issued invoices with something still due, oldest period first (what a payment usually pays)."""
    access.fetch_customer(actor, customer_id)
    invoices = db.session.scalars(
        sa.select(Invoice).where(Invoice.customer_id == customer_id, Invoice.status == "issued")
        .order_by(Invoice.period_start).limit(limit)).all()
    paid = paid_amounts([invoice.id for invoice in invoices])
    rows = [OpenInvoice(invoice, paid.get(invoice.id, Decimal(0))) for invoice in invoices]
    return [row for row in rows if row.due > 0]


def allocate(actor: Actor, payment: Payment, amounts: dict[int, Decimal]) -> list[PaymentAllocation]:
    """Set parts of a Completed payment against invoices of the same customer: {invoice id: amount}.
    All or nothing (a refusal leaves nothing written: the caller's unit of work rolls back); refused when
    an amount exceeds what is due or the payment's unallocated rest."""
    access.require(actor, payment, write=True)
    payment = _locked(Payment, payment.id)
    if payment.status != "Completed":
        raise PaymentRefused(f"Only Completed payments can be allocated; this one is {payment.status}.")
    amounts = {invoice_id: amount for invoice_id, amount in amounts.items() if amount}
    if not amounts:
        raise PaymentRefused("Enter an amount for at least one invoice.")
    rest = payment.amount - allocated([payment.id]).get(payment.id, Decimal(0))
    if sum(amounts.values()) > rest:
        raise PaymentRefused(f"The amounts add up to {money.show(sum(amounts.values()), payment.currency)}, more "
                             f"than the {money.show(rest, payment.currency)} {payment.currency} of this payment "
                             "that is not allocated yet.")
    with db.session.begin_nested():  # a refusal half-way takes back the invoices done before it
        return _allocate_each(payment, amounts)


def _allocate_each(payment: Payment, amounts: dict[int, Decimal]) -> list[PaymentAllocation]:
    paid = paid_amounts(list(amounts))
    made = []
    for invoice_id, amount in sorted(amounts.items()):
        invoice = _locked(Invoice, invoice_id)
        if invoice is None or invoice.customer_id != payment.customer_id:
            raise PaymentRefused("That invoice is not one of this customer's.")
        if invoice.status != "issued":
            raise PaymentRefused(f"{invoice.number} is {invoice.status}; only issued invoices take payments.")
        if amount < 0:
            raise PaymentRefused(f"{invoice.number}: amounts are positive.")
        if amount != money.billed(amount, invoice.currency):
            raise PaymentRefused(f"{invoice.number}: {amount} is not an amount of {invoice.currency}, which has "
                                 f"{money.places(invoice.currency)} decimal places.")
        due = invoice.total - paid.get(invoice_id, Decimal(0))
        if amount > due:
            raise PaymentRefused(f"{invoice.number}: {money.show(amount, invoice.currency)} is more than the "
                                 f"{money.show(due, invoice.currency)} due.")
        existing = db.session.scalar(sa.select(PaymentAllocation).where(
            PaymentAllocation.payment_id == payment.id, PaymentAllocation.invoice_id == invoice_id))
        if existing:
            existing.amount += amount
            made.append(existing)
        else:
            allocation = PaymentAllocation(payment_id=payment.id, invoice_id=invoice_id,
                                           customer_id=payment.customer_id, amount=amount)
            db.session.add(allocation)
            made.append(allocation)
        db.session.flush()
        _refresh_status(invoice)
    return made


def customer_payments(actor: Actor, customer_id: int, wanted: pages.PageRequest, size: int):
    access.fetch_customer(actor, customer_id)
    page = pages.keyset(db.session, sa.select(Payment).where(Payment.customer_id == customer_id),
                        [Payment.id.desc()], wanted, size)
    return page, allocated([payment.id for payment in page.items])
