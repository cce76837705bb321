"""Staff users of the control panel and the record of failed sign-ins."""
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_login import UserMixin

from panel.extensions import db
from panel.types import UTCDateTime, utcnow

ROLES = ("admin", "staff", "readonly")


class StaffUser(UserMixin, db.Model):
    __tablename__ = "staff_user"
    __audited__ = True
    __audit_secret__ = frozenset({"password_hash"})
    __audit_ignore__ = frozenset({"last_login_at"})

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    role: so.Mapped[str] = so.mapped_column(sa.String(16), default="staff")
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(128))
    active: so.Mapped[bool] = so.mapped_column(default=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    __table_args__ = (sa.CheckConstraint(f"role IN {ROLES!r}", name="role"),)

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def can_write(self) -> bool:
        return self.role in ("admin", "staff")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def audit_label(self) -> str:
        return self.email

    def __repr__(self) -> str:
        return f"<StaffUser {self.email} {self.role}>"


class LoginFailure(db.Model):
    """One failed sign-in; counted per e-mail and per address to slow down guessing."""

    __tablename__ = "login_failure"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254))
    ip: so.Mapped[str] = so.mapped_column(sa.String(45))
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        sa.Index("ix_login_failure_email_at", "email", "at"),
        sa.Index("ix_login_failure_ip_at", "ip", "at"),
    )
