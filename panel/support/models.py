"""Support-credit transactions and issue reports."""
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from panel.extensions import db
from panel.types import UTCDateTime, utcnow

CREDIT_KINDS = ("purchase", "deduction", "reversal")
CREDIT_PAYMENT_METHODS = ("Credit card", "Bank transfer", "Purchase order", "Included with plan", "Other")


class CreditTransaction(db.Model):
    """One movement of support credits. Purchases add, deductions take away, a reversal undoes one
    earlier transaction exactly. Rows are never changed or deleted (database triggers refuse it)."""

    __tablename__ = "support_credit"
    __audited__ = True

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    customer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("customer.id", ondelete="RESTRICT"))
    kind: so.Mapped[str] = so.mapped_column(sa.String(10))
    credits: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(12, 2, asdecimal=True))  # signed
    payment_method: so.Mapped[str] = so.mapped_column(sa.String(30), default="")  # purchases
    reference: so.Mapped[str] = so.mapped_column(sa.String(100), default="")  # payment reference or PO number
    ticket_reference: so.Mapped[str] = so.mapped_column(sa.String(100), default="")  # deductions
    deployment_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("deployment.id", ondelete="RESTRICT"))
    reverses_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("support_credit.id", ondelete="RESTRICT"),
                                                          unique=True)
    note: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    created_by: so.Mapped[str] = so.mapped_column(sa.String(200))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        sa.CheckConstraint(f"kind IN {CREDIT_KINDS!r}", name="kind"),
        sa.CheckConstraint(
            "(kind = 'purchase' AND credits > 0 AND reverses_id IS NULL) OR "
            "(kind = 'deduction' AND credits < 0 AND reverses_id IS NULL) OR "
            "(kind = 'reversal' AND credits <> 0 AND reverses_id IS NOT NULL)", name="credits_sign"),
        # The balance is a sum over this index; the log lists a customer's transactions newest first.
        sa.Index("ix_support_credit_customer_id_credits", "customer_id", "credits"),
        sa.Index("ix_support_credit_customer_id_id", "customer_id", "id"),
    )

    @property
    def audit_customer_id(self) -> int:
        return self.customer_id


class IssueReport(db.Model):
    """An issue a contact reported in the portal; it was mailed to the customer's support contacts."""

    __tablename__ = "issue_report"
    __audited__ = True

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    customer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("customer.id", ondelete="RESTRICT"))
    contact_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("contact.id", ondelete="SET NULL"), index=True)
    deployment_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("deployment.id", ondelete="RESTRICT"))
    subject: so.Mapped[str] = so.mapped_column(sa.String(200))
    description: so.Mapped[str] = so.mapped_column(sa.Text)
    sent_to: so.Mapped[str] = so.mapped_column(sa.Text, default="")  # the support contacts' addresses
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.Index("ix_issue_report_customer_id_id", "customer_id", "id"),)

    @property
    def audit_customer_id(self) -> int:
        return self.customer_id
