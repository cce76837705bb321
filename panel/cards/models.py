"""Stored cards, the processor's customer of each panel customer, and every charge attempt on a card.

The processor's ids (customer, payment method, payment intent, refund) are stored so the panel can charge
and reconcile, but they are secrets of the same kind as a password hash: the audit shows them as [secret]
and no template renders them.
"""
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from panel import money
from panel.extensions import db
from panel.types import UTCDateTime, utcnow

# A charge attempt: `pending` is written (and committed) before the processor is asked; `unknown` when the
# answer never came (timeout, crash, the processor's own error) and the worker must ask again; then
# `succeeded` or `declined`; a succeeded charge may become `refunded`.
CHARGE_STATUSES = ("pending", "unknown", "succeeded", "declined", "refunded")
UNSETTLED = ("pending", "unknown")
BRANDS = {"visa": "Visa", "mastercard": "Mastercard", "amex": "American Express", "discover": "Discover",
          "diners": "Diners Club", "jcb": "JCB", "unionpay": "UnionPay"}


def brand_name(brand: str) -> str:
    return BRANDS.get(brand, (brand or "card").title())


class ProcessorCustomer(db.Model):
    """The processor's customer that holds a panel customer's cards (created the first time one is added)."""

    __tablename__ = "card_processor_customer"
    __audited__ = True
    __audit_secret__ = frozenset({"processor_customer_id"})

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    customer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("customer.id", ondelete="CASCADE"), unique=True)
    processor_customer_id: so.Mapped[str] = so.mapped_column(sa.String(255))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    @property
    def audit_customer_id(self) -> int:
        return self.customer_id


class StoredCard(db.Model):
    """A card saved with the processor for a customer. Removed cards are kept (charges refer to them) with
    removed_at set; at most one card of a customer that is not removed is its default."""

    __tablename__ = "stored_card"
    __audited__ = True
    __audit_secret__ = frozenset({"payment_method_id"})

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    customer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("customer.id", ondelete="CASCADE"), index=True)
    payment_method_id: so.Mapped[str] = so.mapped_column(sa.String(255), unique=True)
    brand: so.Mapped[str] = so.mapped_column(sa.String(20))
    last4: so.Mapped[str] = so.mapped_column(sa.String(4))
    exp_month: so.Mapped[int] = so.mapped_column()
    exp_year: so.Mapped[int] = so.mapped_column()
    is_default: so.Mapped[bool] = so.mapped_column(default=False)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    created_by: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    removed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    removed_by: so.Mapped[str | None] = so.mapped_column(sa.String(200))

    __table_args__ = (
        sa.CheckConstraint("exp_month BETWEEN 1 AND 12", name="exp_month"),
        # One default card per customer among the cards not removed.
        sa.Index("uq_stored_card_default", "customer_id", unique=True,
                 sqlite_where=sa.text("is_default AND removed_at IS NULL"),
                 postgresql_where=sa.text("is_default AND removed_at IS NULL")),
    )

    @property
    def audit_customer_id(self) -> int:
        return self.customer_id

    @property
    def active(self) -> bool:
        return self.removed_at is None

    @property
    def label(self) -> str:
        return f"{self.brand_name} ending {self.last4}"

    @property
    def brand_name(self) -> str:
        return brand_name(self.brand)

    @property
    def expiry(self) -> str:
        return f"{self.exp_month:02d}/{self.exp_year}"

    def __repr__(self) -> str:
        return f"<StoredCard {self.id} customer {self.customer_id} {self.brand} {self.last4}>"


class CardCharge(db.Model):
    """One attempt to charge a card for something the caller names by its idempotency key (the store: one key
    per order). Attempt n of a key is sent to the processor with the key "<key>:<n>"; a new attempt is made only
    after the last one was declined, so a key is charged at most once. Pending and unknown attempts are the
    pending charges the worker reconciles by asking the processor."""

    __tablename__ = "card_charge"
    __audited__ = True
    __audit_secret__ = frozenset({"processor_charge_id", "refund_id"})

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    customer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("customer.id", ondelete="RESTRICT"), index=True)
    idempotency_key: so.Mapped[str] = so.mapped_column(sa.String(100))
    attempt: so.Mapped[int] = so.mapped_column(default=1)
    stored_card_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("stored_card.id", ondelete="SET NULL"))
    card_label: so.Mapped[str] = so.mapped_column(sa.String(60), default="")
    amount_minor: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    currency: so.Mapped[str] = so.mapped_column(sa.String(3))
    description: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="pending")
    message: so.Mapped[str] = so.mapped_column(sa.String(300), default="")
    processor_charge_id: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    refund_id: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    created_by: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    settled_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    refunded_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    __table_args__ = (
        sa.UniqueConstraint("idempotency_key", "attempt", name="uq_card_charge_key_attempt"),
        sa.CheckConstraint(f"status IN {CHARGE_STATUSES!r}", name="status"),
        sa.CheckConstraint("amount_minor > 0", name="amount"),
        sa.Index("ix_card_charge_status_created_at", "status", "created_at"),
    )

    @property
    def audit_customer_id(self) -> int:
        return self.customer_id

    @property
    def amount(self) -> Decimal:
        return Decimal(self.amount_minor).scaleb(-money.places(self.currency))

    @property
    def processor_key(self) -> str:
        return f"{self.idempotency_key}:{self.attempt}"

    @property
    def settled(self) -> bool:
        return self.status not in UNSETTLED

    def __repr__(self) -> str:
        return f"<CardCharge {self.id} {self.idempotency_key}#{self.attempt} {self.status}>"
