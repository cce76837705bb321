"""Invoices, their lines, payments, and which payment pays which invoice.

An invoice bills one customer for one period of a time frame with the figures of the Summary
(the hourly roll-up) at the moment it was made; its lines never change afterwards. Two invoices
of a customer that are not void never share a moment: the database refuses it (an exclusion
constraint on PostgreSQL, triggers on SQLite; see migration 0006_invoices).
"""
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from panel.extensions import db
from panel.types import Money, UTCDateTime, utcnow

INVOICE_STATUSES = ("issued", "paid", "void")
# Usage invoices bill a period of calls; store invoices bill one order of the Store (panel/store/), with no
# period rule: they are exempt from the one-per-period constraint and the time-frame check.
INVOICE_KINDS = ("usage", "store")
PAYMENT_STATUSES = ("Pending", "Completed", "Cancelled")
PAYMENT_METHODS = ("Bank transfer", "Credit card", "Direct debit", "Cheque", "Cash", "Other")


class Invoice(db.Model):
    __tablename__ = "invoice"
    __audited__ = True

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    number: so.Mapped[str] = so.mapped_column(sa.String(20), unique=True)
    customer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("customer.id", ondelete="RESTRICT"))
    kind: so.Mapped[str] = so.mapped_column(sa.String(10), default="usage", server_default="usage")
    time_frame: so.Mapped[str] = so.mapped_column(sa.String(10))
    period_start: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    period_end: so.Mapped[datetime] = so.mapped_column(UTCDateTime())  # exclusive
    currency: so.Mapped[str] = so.mapped_column(sa.String(3))
    calls: so.Mapped[int] = so.mapped_column(default=0)
    billed_seconds: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    total: so.Mapped[Decimal] = so.mapped_column(Money(), default=Decimal(0))
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="issued")
    created_by: so.Mapped[str] = so.mapped_column(sa.String(200))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    voided_by: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    voided_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    void_reason: so.Mapped[str] = so.mapped_column(sa.String(500), default="")

    lines: so.Mapped[list["InvoiceLine"]] = so.relationship(
        back_populates="invoice", order_by="InvoiceLine.position", cascade="all, delete-orphan")

    __table_args__ = (
        sa.CheckConstraint(f"status IN {INVOICE_STATUSES!r}", name="status"),
        sa.CheckConstraint("kind <> 'usage' OR time_frame IN ('daily', 'weekly', 'monthly')", name="time_frame"),
        sa.CheckConstraint("period_end > period_start", name="period"),
        sa.CheckConstraint("total >= 0", name="total"),
        # A customer's invoices newest period first (Main tab, portal), and the overlap check.
        sa.Index("ix_invoice_customer_id_period_start", "customer_id", "period_start"),
        # The API pages through invoices by id: of one status, of one customer, or from a period start.
        sa.Index("ix_invoice_status_id", "status", "id"),
        sa.Index("ix_invoice_customer_id_id", "customer_id", "id"),
        sa.Index("ix_invoice_period_start_id", "period_start", "id"),
    )

    @property
    def audit_customer_id(self) -> int:
        return self.customer_id

    @property
    def minutes(self) -> Decimal:
        return (Decimal(self.billed_seconds) / 60).quantize(Decimal("0.01"))

    @property
    def last_day(self) -> date:
        """The period's last day, as people write a period (the stored end is exclusive)."""
        return (self.period_end - timedelta(days=1)).date()

    @property
    def period_label(self) -> str:
        """"2026-11-02", or "2026-11-02 – 2026-11-08" for a longer period: its first and last days."""
        first = f"{self.period_start:%Y-%m-%d}"
        if self.kind == "store":
            return first  # the day of the order
        return first if self.time_frame == "daily" else f"{first} – {self.last_day:%Y-%m-%d}"

    def __repr__(self) -> str:
        return f"<Invoice {self.number} customer {self.customer_id} {self.status}>"


class InvoiceLine(db.Model):
    """One day of the invoice's period as the Summary showed it when the invoice was made."""

    __tablename__ = "invoice_line"
    __audited__ = True

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    invoice_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("invoice.id", ondelete="CASCADE"))
    customer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("customer.id", ondelete="RESTRICT"))
    position: so.Mapped[int]
    description: so.Mapped[str] = so.mapped_column(sa.String(200))
    calls: so.Mapped[int] = so.mapped_column(default=0)
    answered: so.Mapped[int] = so.mapped_column(default=0)
    billed_seconds: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    charge: so.Mapped[Decimal] = so.mapped_column(Money(), default=Decimal(0))

    invoice: so.Mapped[Invoice] = so.relationship(back_populates="lines")

    __table_args__ = (sa.Index("ix_invoice_line_invoice_id_position", "invoice_id", "position"),)

    @property
    def audit_customer_id(self) -> int:
        return self.customer_id

    @property
    def minutes(self) -> Decimal:
        return (Decimal(self.billed_seconds) / 60).quantize(Decimal("0.01"))


class Payment(db.Model):
    """Money received (or expected) from a customer. Only Completed payments count toward the balance."""

    __tablename__ = "payment"
    __audited__ = True

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    customer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("customer.id", ondelete="RESTRICT"))
    amount: so.Mapped[Decimal] = so.mapped_column(Money())
    currency: so.Mapped[str] = so.mapped_column(sa.String(3))
    method: so.Mapped[str] = so.mapped_column(sa.String(20))
    reference: so.Mapped[str] = so.mapped_column(sa.String(100), default="")
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="Pending")
    received_on: so.Mapped[date]
    created_by: so.Mapped[str] = so.mapped_column(sa.String(200))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    allocations: so.Mapped[list["PaymentAllocation"]] = so.relationship(back_populates="payment")

    __table_args__ = (
        sa.CheckConstraint(f"status IN {PAYMENT_STATUSES!r}", name="status"),
        sa.CheckConstraint("amount > 0", name="amount"),
        # The balance sums a customer's Completed payments; the list shows them newest first.
        sa.Index("ix_payment_customer_id_status_amount", "customer_id", "status", "amount"),
        sa.Index("ix_payment_customer_id_id", "customer_id", "id"),
        # ix_payment_reference_lower on lower(reference) (migration 0032): a store order's payment refuses a
        # reference already used, compared without case (panel/store/orders.py).
    )

    @property
    def audit_customer_id(self) -> int:
        return self.customer_id


class PaymentAllocation(db.Model):
    """Part (or all) of a payment set against one invoice."""

    __tablename__ = "payment_allocation"
    __audited__ = True

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    payment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("payment.id", ondelete="RESTRICT"))
    invoice_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("invoice.id", ondelete="RESTRICT"))
    customer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("customer.id", ondelete="RESTRICT"))
    amount: so.Mapped[Decimal] = so.mapped_column(Money())
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    payment: so.Mapped[Payment] = so.relationship(back_populates="allocations")
    invoice: so.Mapped[Invoice] = so.relationship()

    __table_args__ = (
        sa.UniqueConstraint("payment_id", "invoice_id", name="uq_payment_allocation_payment_invoice"),
        sa.CheckConstraint("amount > 0", name="amount"),
        sa.Index("ix_payment_allocation_invoice_id", "invoice_id"),
    )

    @property
    def audit_customer_id(self) -> int:
        return self.customer_id
