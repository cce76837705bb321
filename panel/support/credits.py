"""The support-credit ledger: purchases add credits, deductions (support work, with a ticket) take them,
a reversal undoes one earlier transaction exactly once. Nothing is ever edited.

The balance is the sum of the customer's transactions and never goes below zero: every write locks
the customer's row first (held until the caller's unit of work ends), so two deductions (or a
deduction and a reversal) cannot both pass a check that only one of them should.
"""
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from flask import abort
from sqlalchemy.exc import IntegrityError

from panel import access
from panel.actor import Actor
from panel.customers.accounts import lock_customer
from panel.customers.models import Customer
from panel.deployments.models import Deployment
from panel.extensions import db
from panel.support.models import CREDIT_PAYMENT_METHODS, CreditTransaction
from panel import pages
from panel.pages import Page

CENT = Decimal("0.01")
MAX_CREDITS = Decimal("9999999999.99")  # NUMERIC(12, 2)


class CreditRefused(Exception):
    """A ledger entry that cannot be made; the message says why, for the user, and `field` which
    form field it belongs next to (None: the form as a whole)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def balance(customer_id: int) -> Decimal:
    """The sum of the customer's transactions (index-only on (customer_id, credits))."""
    total = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(CreditTransaction.credits), 0))
                              .where(CreditTransaction.customer_id == customer_id))
    return Decimal(total).quantize(CENT)


def balances(customer_ids) -> dict[int, Decimal]:
    """balance for many customers at once (a list page): one grouped sum."""
    ids = list(set(customer_ids))
    found = {customer_id: Decimal(0).quantize(CENT) for customer_id in ids}
    if ids:
        for customer_id, total in db.session.execute(
                sa.select(CreditTransaction.customer_id, sa.func.sum(CreditTransaction.credits))
                .where(CreditTransaction.customer_id.in_(ids)).group_by(CreditTransaction.customer_id)).all():
            found[customer_id] = Decimal(total or 0).quantize(CENT)
    return found


def _amount(credits) -> Decimal:
    credits = Decimal(credits)
    if not credits.is_finite() or credits <= 0:
        raise CreditRefused("Enter a number of credits above zero.", "credits")
    if credits != credits.quantize(CENT):
        raise CreditRefused("Use at most two decimal places.", "credits")
    if credits > MAX_CREDITS:
        raise CreditRefused("That is more credits than the ledger holds in one transaction.", "credits")
    return credits.quantize(CENT)


def _text(value: str, limit: int) -> str:
    return " ".join((value or "").split())[:limit]


def _record(actor: Actor, transaction: CreditTransaction) -> CreditTransaction:
    transaction.created_by = actor.audit_fields()["user_label"]
    with db.session.begin_nested():  # a database refusal undoes only this entry
        db.session.add(transaction)
    return transaction


def purchase(actor: Actor, customer: Customer, credits, payment_method: str, reference: str,
             note: str = "") -> CreditTransaction:
    """Credits bought: how they were paid, and the payment reference or PO number."""
    access.require(actor, customer, write=True)
    credits = _amount(credits)
    if payment_method not in CREDIT_PAYMENT_METHODS:
        raise CreditRefused(f"Choose a payment method: {', '.join(CREDIT_PAYMENT_METHODS)}.", "payment_method")
    reference = _text(reference, 100)
    if not reference:
        raise CreditRefused("Enter the payment reference or PO number.", "reference")
    lock_customer(customer.id)
    return _record(actor, CreditTransaction(customer_id=customer.id, kind="purchase", credits=credits,
                                     payment_method=payment_method, reference=reference, note=_text(note, 500)))


def deduct(actor: Actor, customer: Customer, credits, ticket_reference: str, deployment_id: int | None = None,
           note: str = "") -> CreditTransaction:
    """Credits used for support work: the ticket it was for, and the deployment if there is one.
    Refused when the customer has fewer credits left."""
    access.require(actor, customer, write=True)
    credits = _amount(credits)
    ticket_reference = _text(ticket_reference, 100)
    if not ticket_reference:
        raise CreditRefused("Enter the ticket reference of the support work.", "ticket_reference")
    if deployment_id is not None:
        owner = db.session.scalar(sa.select(Deployment.customer_id).where(Deployment.id == deployment_id))
        if owner != customer.id:
            raise CreditRefused("That deployment is not one of this customer's.", "deployment_id")
    lock_customer(customer.id)
    left = balance(customer.id)
    if credits > left:
        raise CreditRefused(f"{customer.name} has {left:,.2f} credits left: {credits:,.2f} cannot be deducted.",
                            "credits")
    return _record(actor, CreditTransaction(customer_id=customer.id, kind="deduction", credits=-credits,
                                     ticket_reference=ticket_reference, deployment_id=deployment_id,
                                     note=_text(note, 500)))


def reversal_of(transaction_id: int) -> CreditTransaction | None:
    return db.session.scalar(sa.select(CreditTransaction).where(CreditTransaction.reverses_id == transaction_id))


def reverse(actor: Actor, transaction: CreditTransaction, note: str) -> CreditTransaction:
    """Undo one purchase or deduction with a transaction of the opposite sign, once. A reversal is
    not reversed (record the right transaction instead), and a purchase whose credits are spent
    cannot be reversed below a zero balance."""
    access.require(actor, transaction, write=True)
    note = _text(note, 500)
    if not note:
        raise CreditRefused("Say why the transaction is reversed; it is kept with the reversal.", "note")
    if transaction.kind == "reversal":
        raise CreditRefused("A reversal is not reversed: record the right purchase or deduction instead.")
    lock_customer(transaction.customer_id)
    existing = reversal_of(transaction.id)
    if existing is not None:
        raise CreditRefused(f"Transaction #{transaction.id} was reversed already, by #{existing.id}.")
    left = balance(transaction.customer_id)
    if left + (-transaction.credits) < 0:
        raise CreditRefused(f"Only {left:,.2f} credits are left: reversing this purchase of "
                            f"{transaction.credits:,.2f} would take the balance below zero.")
    try:
        return _record(actor, CreditTransaction(
            customer_id=transaction.customer_id, kind="reversal", credits=-transaction.credits,
            payment_method=transaction.payment_method, reference=transaction.reference,
            ticket_reference=transaction.ticket_reference, deployment_id=transaction.deployment_id,
            reverses_id=transaction.id, note=note))
    except IntegrityError:  # another reversal of it committed first (the unique reverses_id)
        raise CreditRefused(f"Transaction #{transaction.id} was reversed already.") from None


@dataclass
class LogRow:
    transaction: CreditTransaction
    balance_after: Decimal
    reversed_by: int | None  # the id of the reversal of this transaction
    deployment: Deployment | None

    @property
    def reversible(self) -> bool:
        return self.transaction.kind != "reversal" and self.reversed_by is None


@dataclass
class Log:
    page: Page
    rows: list[LogRow]
    balance: Decimal


def log(actor: Actor, customer_id: int, wanted: pages.PageRequest, size: int) -> Log:
    """One page of the customer's transactions, newest first, each with the balance after it, the
    reversal that undid it (if any) and its deployment. A customer outside `actor`'s reach: 404."""
    if not access.can_see_customer(actor, customer_id):
        abort(404, access.NOT_FOUND)
    page = pages.keyset(db.session, sa.select(CreditTransaction).where(CreditTransaction.customer_id == customer_id),
                        [CreditTransaction.id.desc()], wanted, size)
    total = balance(customer_id)
    rows = []
    if page.items:
        ids = [t.id for t in page.items]
        after = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(CreditTransaction.credits), 0)).where(
            CreditTransaction.customer_id == customer_id, CreditTransaction.id <= ids[0]))
        after = Decimal(after).quantize(CENT)
        reversals = dict(db.session.execute(sa.select(CreditTransaction.reverses_id, CreditTransaction.id)
                                            .where(CreditTransaction.reverses_id.in_(ids))).all())
        deployment_ids = {t.deployment_id for t in page.items if t.deployment_id}
        deployments = {d.id: d for d in db.session.scalars(
            sa.select(Deployment).where(Deployment.id.in_(deployment_ids)))} if deployment_ids else {}
        for transaction in page.items:
            rows.append(LogRow(transaction, after, reversals.get(transaction.id),
                               deployments.get(transaction.deployment_id)))
            after -= transaction.credits
    return Log(page=page, rows=rows, balance=total)

