"""Drafts of the New customer flow."""
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from panel.extensions import db
from panel.types import UTCDateTime, utcnow


class OnboardingDraft(db.Model):
    """A New customer flow in progress, owned by the staff member or portal admin who started it.
    `data` is JSON: {"customer": {...}, "admins": [...], "support": [...]}."""

    __tablename__ = "onboarding_draft"
    __audited__ = True

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    staff_user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("staff_user.id", ondelete="CASCADE"))
    contact_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("contact.id", ondelete="CASCADE"))
    # Set for a portal admin: the new customer becomes a sub-account of this one.
    reseller_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("customer.id", ondelete="CASCADE"))
    step: so.Mapped[int] = so.mapped_column(default=1)
    data: so.Mapped[str] = so.mapped_column(sa.Text, default="{}")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint("(staff_user_id IS NULL) <> (contact_id IS NULL)", name="one_owner"),
        sa.Index("ix_onboarding_draft_staff_user_id", "staff_user_id"),
        sa.Index("ix_onboarding_draft_contact_id", "contact_id"),
    )

    @property
    def audit_customer_id(self) -> int | None:
        return self.reseller_id
