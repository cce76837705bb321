"""Portal Login sessions (staff seeing the portal as a contact) and refused portal sign-ins."""
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from panel.extensions import db
from panel.types import UTCDateTime, utcnow


class PortalLogin(db.Model):
    """One Portal Login: valid while not ended and not expired; the cookie holds only its token."""

    __tablename__ = "portal_login"
    __audited__ = True
    __audit_secret__ = frozenset({"token_digest"})

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    token_digest: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    staff_user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("staff_user.id"), index=True)
    staff_email: so.Mapped[str] = so.mapped_column(sa.String(254))
    contact_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("contact.id", ondelete="CASCADE"), index=True)
    contact_email: so.Mapped[str] = so.mapped_column(sa.String(254))
    customer_id: so.Mapped[int] = so.mapped_column()
    started_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    expires_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    ended_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    end_reason: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    ip: so.Mapped[str | None] = so.mapped_column(sa.String(45))

    @property
    def audit_customer_id(self) -> int:
        return self.customer_id


class AccessEvent(db.Model):
    """A security event worth keeping in the audit log, such as a sign-in refused by an allow-list."""

    __tablename__ = "access_event"
    __audited__ = True

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    kind: so.Mapped[str] = so.mapped_column(sa.String(40))
    contact_id: so.Mapped[int | None] = so.mapped_column()
    customer_id: so.Mapped[int | None] = so.mapped_column()
    ip: so.Mapped[str | None] = so.mapped_column(sa.String(45))
    detail: so.Mapped[str] = so.mapped_column(sa.String(300), default="")

    @property
    def audit_customer_id(self) -> int | None:
        return self.customer_id
