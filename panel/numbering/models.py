"""Internal number blocks (ranges of SIP usernames held by one customer) and the SIP users made from them."""
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from panel.extensions import db
from panel.types import UTCDateTime, utcnow


class NumberBlock(db.Model):
    __tablename__ = "number_block"
    __audited__ = True

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    customer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("customer.id", ondelete="RESTRICT"), index=True)
    # Unique start, and (in the migration) no overlap with any other block, enforced by the database.
    start_number: so.Mapped[int] = so.mapped_column(sa.BigInteger, unique=True)
    end_number: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    assigned_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.CheckConstraint("end_number >= start_number", name="range"),)

    @property
    def audit_customer_id(self) -> int:
        return self.customer_id

    @property
    def size(self) -> int:
        return self.end_number - self.start_number + 1


class SipUser(db.Model):
    """A SIP account: the password is kept only as the digest hashes a registrar checks (HA1, HA1B)."""

    __tablename__ = "sip_user"
    __audited__ = True
    __audit_secret__ = frozenset({"ha1", "ha1b"})

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    customer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("customer.id", ondelete="RESTRICT"), index=True)
    number_block_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("number_block.id", ondelete="RESTRICT"), index=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(32), unique=True)
    realm: so.Mapped[str] = so.mapped_column(sa.String(200))
    ha1: so.Mapped[str] = so.mapped_column(sa.String(32))
    ha1b: so.Mapped[str] = so.mapped_column(sa.String(32))
    caller_name: so.Mapped[str] = so.mapped_column(sa.String(100), default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    @property
    def audit_customer_id(self) -> int:
        return self.customer_id
