"""A customer's balance (ledger entries, payments and invoices) and the figures the Main tab and the portal show
at the top. Here, in the money area, because the balance is made of invoices and payments; the customer record
itself knows nothing of them."""
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from panel.customers.models import Customer, LedgerEntry
from panel.extensions import db
from panel.invoices.models import Invoice, Payment


def balance_of(customer_id: int) -> Decimal:
    """Ledger entries, plus Completed payments, less the invoices that are not void (index-only sums)."""
    def total(column, *conditions):
        return sa.select(sa.func.coalesce(sa.func.sum(column), 0)).where(*conditions).scalar_subquery()

    balance = db.session.scalar(sa.select(
        total(LedgerEntry.amount, LedgerEntry.customer_id == customer_id)
        + total(Payment.amount, Payment.customer_id == customer_id, Payment.status == "Completed")
        - total(Invoice.total, Invoice.customer_id == customer_id, Invoice.status != "void")))
    return Decimal(balance).quantize(Decimal("0.0001"))


@dataclass
class Overview:
    """The figures at the top of the Main tab."""

    customer: Customer
    balance: Decimal

    @property
    def available(self) -> Decimal:
        # What may still be spent before the debit limit stops calls.
        return self.balance + self.customer.debit_limit

    @property
    def over_limit(self) -> bool:
        return self.available < 0


def overview(customer: Customer) -> Overview:
    return Overview(customer=customer, balance=balance_of(customer.id))


def balances_of(customer_ids: list[int]) -> dict[int, Decimal]:
    """balance_of for many customers at once (a list page, the worker's batches): three grouped index-only sums,
    whatever the number of rows."""
    if not customer_ids:
        return {}
    totals = dict.fromkeys(customer_ids, Decimal(0))
    for column, key, sign, conditions in (
            (LedgerEntry.amount, LedgerEntry.customer_id, 1, ()),
            (Payment.amount, Payment.customer_id, 1, (Payment.status == "Completed",)),
            (Invoice.total, Invoice.customer_id, -1, (Invoice.status != "void",))):
        rows = db.session.execute(sa.select(key, sa.func.sum(column)).where(key.in_(customer_ids), *conditions)
                                  .group_by(key))
        for customer_id, amount in rows:
            totals[customer_id] += sign * Decimal(amount or 0)
    return {customer_id: total.quantize(Decimal("0.0001")) for customer_id, total in totals.items()}
