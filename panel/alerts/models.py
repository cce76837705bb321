"""Alerts on a customer's figures, their state per (alert, customer), what they fired, the penalties they
set, and the cached balance the worker and the credit check read."""
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from panel.extensions import db
from panel.types import Money, UTCDateTime, utcnow

# The figures an alert may compare, and how each is shown.
FIGURES = {
    "balance": "Balance",
    "available": "Balance relative to the debit limit (available credit)",
    "channels": "Channels in use",
    "spend_today": "Today's spend (UTC)",
    "asr_hour": "ASR of the last hour (%)",
}
OPERATORS = ("<", "<=", ">", ">=")
PENALTY_OUTCOMES = ("", "restored", "kept")


class Alert(db.Model):
    """A threshold on one figure. customer_id NULL: a global alert, for every customer that has none of its own."""

    __tablename__ = "alert"
    __audited__ = True

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    customer_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("customer.id", ondelete="CASCADE"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(100))
    figure: so.Mapped[str] = so.mapped_column(sa.String(20))
    operator: so.Mapped[str] = so.mapped_column(sa.String(2))
    threshold: so.Mapped[Decimal] = so.mapped_column(Money())
    # Fires again only after the figure has gone back past this level (None: as soon as it is not crossed).
    reset_threshold: so.Mapped[Decimal | None] = so.mapped_column(Money())
    # While still crossed, fire again after this many minutes (None: never).
    repeat_minutes: so.Mapped[int | None] = so.mapped_column()
    # Contact types (space separated) whose contacts receive the mail, and extra addresses (one per line).
    contact_types: so.Mapped[str] = so.mapped_column(sa.String(200), default="", server_default="")
    extra_addresses: so.Mapped[str] = so.mapped_column(sa.String(2000), default="", server_default="")
    subject: so.Mapped[str] = so.mapped_column(sa.String(200), default="", server_default="")
    body: so.Mapped[str] = so.mapped_column(sa.Text(), default="", server_default="")
    # Set the customer's status to Penalty for this many minutes when it fires (None: no penalty).
    penalty_minutes: so.Mapped[int | None] = so.mapped_column()
    enabled: so.Mapped[bool] = so.mapped_column(default=True, server_default=sa.true())
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        sa.CheckConstraint(f"figure IN {tuple(FIGURES)!r}", name="figure"),
        sa.CheckConstraint(f"operator IN {OPERATORS!r}", name="operator"),
        sa.CheckConstraint("repeat_minutes IS NULL OR repeat_minutes > 0", name="repeat_minutes"),
        sa.CheckConstraint("penalty_minutes IS NULL OR penalty_minutes > 0", name="penalty_minutes"),
    )

    @property
    def audit_customer_id(self) -> int | None:
        return self.customer_id

    @property
    def figure_label(self) -> str:
        return FIGURES.get(self.figure, self.figure)

    @property
    def types(self) -> list[str]:
        return self.contact_types.split("|") if self.contact_types else []

    @property
    def addresses(self) -> list[str]:
        return [line.strip() for line in self.extra_addresses.splitlines() if line.strip()]


class AlertState(db.Model):
    """Where an alert stands for one customer: armed (not crossed) or fired, and when it last fired.
    A live figure, not audited; `version` makes each change a compare-and-set, so that of several workers
    reading the same figures only one fires a crossing."""

    __tablename__ = "alert_state"

    alert_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("alert.id", ondelete="CASCADE"), primary_key=True)
    customer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True,
                                                   index=True)
    crossed: so.Mapped[bool] = so.mapped_column(default=False)
    last_value: so.Mapped[Decimal | None] = so.mapped_column(Money())
    last_fired_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    fired_count: so.Mapped[int] = so.mapped_column(default=0)
    version: so.Mapped[int] = so.mapped_column(default=0)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)


class AlertFiring(db.Model):
    """One firing: what the figure was, who was mailed, whether a penalty started. Audited (its insert)."""

    __tablename__ = "alert_firing"
    __audited__ = True

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    alert_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("alert.id", ondelete="SET NULL"), index=True)
    customer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("customer.id", ondelete="CASCADE"))
    alert_name: so.Mapped[str] = so.mapped_column(sa.String(100))
    figure: so.Mapped[str] = so.mapped_column(sa.String(20))
    value: so.Mapped[Decimal] = so.mapped_column(Money())
    threshold: so.Mapped[Decimal] = so.mapped_column(Money())
    recipients: so.Mapped[str] = so.mapped_column(sa.String(2000), default="")
    penalty: so.Mapped[bool] = so.mapped_column(default=False)
    fired_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.Index("ix_alert_firing_customer_fired", "customer_id", "fired_at"),)

    @property
    def audit_customer_id(self) -> int:
        return self.customer_id


class AlertPenalty(db.Model):
    """A customer put in Penalty by an alert until `ends_at`; then its previous status comes back, unless
    staff changed the status meanwhile (outcome "kept")."""

    __tablename__ = "alert_penalty"
    __audited__ = True

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    customer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("customer.id", ondelete="CASCADE"), index=True)
    alert_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("alert.id", ondelete="SET NULL"))
    previous_status: so.Mapped[str] = so.mapped_column(sa.String(20))
    started_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    ends_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    ended_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    outcome: so.Mapped[str] = so.mapped_column(sa.String(10), default="", server_default="")

    __table_args__ = (
        sa.CheckConstraint(f"outcome IN {PENALTY_OUTCOMES!r}", name="outcome"),
        # The worker's "penalties due to end": open ones by end time.
        sa.Index("ix_alert_penalty_open_ends", "ended_at", "ends_at"),
    )

    @property
    def audit_customer_id(self) -> int:
        return self.customer_id


class BalanceCache(db.Model):
    """A customer's balance as last computed (by the worker each pass, or by authorize when it is older than
    the authorize_balance_max_age option): the credit check reads one row by key, never the ledger."""

    __tablename__ = "balance_cache"

    customer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True)
    balance: so.Mapped[Decimal] = so.mapped_column(Money())
    refreshed_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
