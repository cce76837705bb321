"""Second factors: a TOTP secret, single-use recovery codes and passkeys, each of a staff user or a contact.

Exactly one of staff_user_id / contact_id is set. Secrets are stored (a TOTP secret must be, to verify a
code) but audited as [secret] and never rendered after enrolment; recovery codes are kept as SHA-256 digests.
"""
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from panel.extensions import db
from panel.types import UTCDateTime, utcnow

ONE_OWNER = "(staff_user_id IS NULL) <> (contact_id IS NULL)"


class _Owned:
    staff_user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    contact_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("contact.id", ondelete="CASCADE"), index=True)
    # The contact's customer, so the audit entry shows in that customer's log.
    customer_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("customer.id", ondelete="CASCADE"))

    @property
    def audit_customer_id(self) -> int | None:
        return self.customer_id


class TotpSecret(_Owned, db.Model):
    """One per owner. Not confirmed until the first code is accepted; last_step refuses a replayed code."""

    __tablename__ = "totp_secret"
    __audited__ = True
    __audit_secret__ = frozenset({"secret"})
    __audit_ignore__ = frozenset({"last_step"})

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    secret: so.Mapped[str] = so.mapped_column(sa.String(64))
    confirmed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    last_step: so.Mapped[int | None] = so.mapped_column(sa.BigInteger)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        sa.CheckConstraint(ONE_OWNER, name="totp_one_owner"),
        sa.UniqueConstraint("staff_user_id", name="uq_totp_staff"),
        sa.UniqueConstraint("contact_id", name="uq_totp_contact"),
    )


class RecoveryCode(_Owned, db.Model):
    __tablename__ = "recovery_code"
    __audited__ = True
    __audit_secret__ = frozenset({"digest"})

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    digest: so.Mapped[str] = so.mapped_column(sa.String(64))
    used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    __table_args__ = (sa.CheckConstraint(ONE_OWNER, name="recovery_one_owner"),)


class Passkey(_Owned, db.Model):
    """A WebAuthn credential (staff only for now; the owner columns allow contacts later)."""

    __tablename__ = "passkey"
    __audited__ = True
    __audit_secret__ = frozenset({"public_key"})
    __audit_ignore__ = frozenset({"sign_count", "last_used_at"})

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(100))
    credential_id: so.Mapped[str] = so.mapped_column(sa.String(700), unique=True)  # base64url
    public_key: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary)
    sign_count: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    __table_args__ = (sa.CheckConstraint(ONE_OWNER, name="passkey_one_owner"),)
