"""Staff users of the control panel, their permission groups, single-use links, and the record of failed sign-ins."""
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_login import UserMixin

from panel.extensions import db
from panel.types import UTCDateTime, utcnow

ROLES = ("admin", "staff", "readonly")
# The areas a permission group grants, read and/or write (panel/access.py maps every route to one).
AREAS = {
    "customers": "Customers",
    "contacts": "Contacts",
    "numbering": "Number blocks and SIP users",
    "invoices": "Summaries and invoices",
    "payments": "Payments",
    "deployments": "Deployments and support credits",
    "portal_login": "Portal Login",
    "onboarding": "Onboarding",
    "audit": "Audit log",
    "orders": "Store orders",
    "settings": "Settings",
}
# A staff user in no group keeps what the role gave before groups existed: every area but Settings.
ROLE_DEFAULT_AREAS = frozenset(AREAS) - {"settings"}


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

    def rights(self) -> dict[str, bool]:
        """{area: may write} for every area this user may see: admin everything; otherwise the union of the
        groups (none: every area but Settings); read-only staff never write, whatever the groups grant."""
        if self.role == "admin":
            return dict.fromkeys(AREAS, True)
        groups = list(self.groups)
        if not groups:
            granted = dict.fromkeys(ROLE_DEFAULT_AREAS, True)
        else:
            granted: dict[str, bool] = {}
            for group in groups:
                for area, write in group.grant_map().items():
                    granted[area] = granted.get(area, False) or write
        if not self.can_write:
            granted = dict.fromkeys(granted, False)
        return granted

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


class StaffGroup(db.Model):
    """A permission group: per area, read ("r") or read and write ("rw"), kept as "area:rw area:r"."""

    __tablename__ = "staff_group"
    __audited__ = True

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(80), unique=True)
    grants: so.Mapped[str] = so.mapped_column(sa.String(500), default="")

    def grant_map(self) -> dict[str, bool]:
        result = {}
        for item in (self.grants or "").split():
            area, _, mode = item.partition(":")
            if area in AREAS and mode in ("r", "rw"):
                result[area] = mode == "rw"
        return result

    @staticmethod
    def encode(grant_map: dict[str, bool]) -> str:
        return " ".join(f"{area}:{'rw' if write else 'r'}" for area, write in sorted(grant_map.items()) if area in AREAS)


class StaffGroupMember(db.Model):
    """A staff user's membership of a group (its own audited row, so a change of groups shows in the log)."""

    __tablename__ = "staff_group_member"
    __audited__ = True

    staff_user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True)
    group_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("staff_group.id", ondelete="CASCADE"), primary_key=True)


StaffUser.groups = so.relationship(StaffGroup, secondary="staff_group_member", viewonly=True, order_by=StaffGroup.name)


class AuthLink(db.Model):
    """A single-use link: an invitation (48 hours) or a password reset (one hour), for a staff user or a
    contact. Only the digest of its secret is kept; used_at is set by one conditional UPDATE, so a link is
    spent once even when two requests race (panel/auth/links.py)."""

    __tablename__ = "auth_link"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    purpose: so.Mapped[str] = so.mapped_column(sa.String(16))  # invite | staff_reset | portal_reset
    # Indexed: links are kept once spent, and a new link closes the person's open ones by these (migration 0029).
    staff_user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("staff_user.id", ondelete="CASCADE"),
                                                            index=True)
    contact_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("contact.id", ondelete="CASCADE"), index=True)
    digest: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    expires_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())


class ResetRequest(db.Model):
    """One "I forgot my password" request, known e-mail or not: counted per e-mail and per address."""

    __tablename__ = "reset_request"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254))
    ip: so.Mapped[str] = so.mapped_column(sa.String(45))
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        sa.Index("ix_reset_request_email_at", "email", "at"),
        sa.Index("ix_reset_request_ip_at", "ip", "at"),
    )
