"""Contacts of a customer: the people who sign in to the customer portal."""
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from panel import emails
from panel.extensions import db
from panel.types import UTCDateTime, utcnow

CONTACT_TYPES = ("Admin", "Maintainer", "Onsite Admin", "Billing", "Technical", "Other")


class Contact(db.Model):
    __tablename__ = "contact"
    __audited__ = True
    __audit_secret__ = frozenset({"password_hash", "mobile_code_hash", "pending_password_hash"})
    __audit_ignore__ = frozenset({"email_key", "last_login_at", "updated_at", "mobile_code_expires_at", "mobile_code_attempts"})

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    customer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("customer.id", ondelete="RESTRICT"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    # The portal login, as panel/emails.py normalises it; email_key (its case-folded form, set whenever email
    # is) is what is unique and what sign-in looks up, the same on SQLite and PostgreSQL.
    email: so.Mapped[str] = so.mapped_column(sa.String(254))
    email_key: so.Mapped[str | None] = so.mapped_column(sa.String(254))
    contact_type: so.Mapped[str] = so.mapped_column(sa.String(20), default="Other")
    phone: so.Mapped[str] = so.mapped_column(sa.String(40), default="")
    mobile: so.Mapped[str] = so.mapped_column(sa.String(40), default="")
    public_notes: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    private_notes: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    mobile_verified: so.Mapped[bool] = so.mapped_column(default=False)
    email_verified: so.Mapped[bool] = so.mapped_column(default=False)
    password_hash: so.Mapped[str | None] = so.mapped_column(sa.String(128))
    # A generated password works once: until it expires, and only to choose a new one.
    must_change_password: so.Mapped[bool] = so.mapped_column(default=False)
    password_expires_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    # A reset's generated password waits here until its e-mail is delivered, and only then becomes the
    # password (panel/contacts/records.py): the old one works meanwhile, and no contact is left with a
    # password that never reached them. The id is the mail_message's (no foreign key: messages are kept).
    pending_password_hash: so.Mapped[str | None] = so.mapped_column(sa.String(128))
    pending_password_mail_id: so.Mapped[int | None] = so.mapped_column(index=True, unique=True)
    active: so.Mapped[bool] = so.mapped_column(default=True)
    # Addresses and CIDR ranges (one per line) the contact may sign in to the portal from; empty: any.
    ip_allowlist: so.Mapped[str] = so.mapped_column(sa.Text, default="", server_default="")
    # A new e-mail asked for in the portal, until the link sent to it is followed.
    pending_email: so.Mapped[str | None] = so.mapped_column(sa.String(254))
    mobile_code_hash: so.Mapped[str | None] = so.mapped_column(sa.String(128))
    mobile_code_expires_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    mobile_code_attempts: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    last_login_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    customer = so.relationship("Customer")

    __table_args__ = (
        sa.CheckConstraint(f"contact_type IN {CONTACT_TYPES!r}", name="contact_type"),
        sa.Index("ix_contact_name_id", "name", "id"),
        sa.Index("uq_contact_email_key", "email_key", unique=True),
    )

    @property
    def audit_customer_id(self) -> int:
        return self.customer_id

    @so.validates("email")
    def _normalise_email(self, _name, value):
        value = emails.normalize(value)
        self.email_key = emails.key(value)
        return value


class ContactName(db.Model):
    """Every name a contact has had, kept by triggers on contact (migration 0025) and never removed: a search by a
    person's name matches these first, then reads its page of contacts by the (name, id) index."""

    __tablename__ = "contact_name"

    name: so.Mapped[str] = so.mapped_column(sa.String(120), primary_key=True)


class VerificationSend(db.Model):
    """One SMS code or verification mail sent: counted per contact and per destination to limit sends
    (panel/contacts/verification.py). Not audited: it is a counter, like login_failure."""

    __tablename__ = "verification_send"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(10))  # "sms" or "email"
    contact_id: so.Mapped[int] = so.mapped_column()
    destination: so.Mapped[str] = so.mapped_column(sa.String(254))  # the e-mail key or the mobile's digits
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        sa.Index("ix_verification_send_contact_at", "contact_id", "at"),
        sa.Index("ix_verification_send_destination_at", "destination", "at"),
    )
