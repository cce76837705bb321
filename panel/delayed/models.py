"""Delayed saves: a change asked for now that the worker applies when it falls due."""
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from panel.extensions import db
from panel.types import UTCDateTime, utcnow

STATUSES = ("pending", "applied", "cancelled", "conflict")


class PendingChange(db.Model):
    __tablename__ = "pending_change"
    __audited__ = True
    __audit_secret__ = frozenset({"secret"})

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(10))  # "create" or "update"
    table_name: so.Mapped[str] = so.mapped_column(sa.String(64))
    row_id: so.Mapped[int | None] = so.mapped_column()
    customer_id: so.Mapped[int] = so.mapped_column()
    # The new values as JSON, and what the changed fields held when the change was asked.
    changes: so.Mapped[str] = so.mapped_column(sa.Text)
    base: so.Mapped[str] = so.mapped_column(sa.Text, default="{}")
    # A password hash typed by staff for a delayed new contact; never shown.
    secret: so.Mapped[str | None] = so.mapped_column(sa.String(128))
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="pending")
    run_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    requested_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    requested_by_id: so.Mapped[int | None] = so.mapped_column()
    requested_by: so.Mapped[str] = so.mapped_column(sa.String(300))
    requested_ip: so.Mapped[str | None] = so.mapped_column(sa.String(45))
    comment: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    finished_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    finished_by: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    outcome: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    # A conflict staff have looked at: it leaves the customer's Pending changes, stays in the Delay Log.
    dismissed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    dismissed_by: so.Mapped[str | None] = so.mapped_column(sa.String(300))

    __table_args__ = (
        sa.CheckConstraint(f"status IN {STATUSES!r}", name="status"),
        sa.CheckConstraint("kind IN ('create', 'update')", name="kind"),
        sa.Index("ix_pending_change_status_run_at", "status", "run_at"),
        sa.Index("ix_pending_change_customer_status", "customer_id", "status"),
        sa.Index("ix_pending_change_target", "table_name", "row_id"),
    )

    @property
    def audit_customer_id(self) -> int:
        return self.customer_id
