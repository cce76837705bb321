"""The audit log: one append-only, hash-chained entry per audited row change."""
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from panel.extensions import db
from panel.types import UTCDateTime


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    user_label: so.Mapped[str] = so.mapped_column(sa.String(300))
    staff_user_id: so.Mapped[int | None] = so.mapped_column()
    contact_id: so.Mapped[int | None] = so.mapped_column()
    ip: so.Mapped[str | None] = so.mapped_column(sa.String(45))
    action: so.Mapped[str] = so.mapped_column(sa.String(8))
    table_name: so.Mapped[str] = so.mapped_column(sa.String(64))
    row_id: so.Mapped[str] = so.mapped_column(sa.String(64))
    customer_id: so.Mapped[int | None] = so.mapped_column()
    message: so.Mapped[str] = so.mapped_column(sa.String(16))
    data: so.Mapped[str] = so.mapped_column(sa.Text)
    comment: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    prev_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)

    __table_args__ = (
        sa.Index("ix_audit_entry_customer_id_id", "customer_id", "id"),
        sa.Index("ix_audit_entry_table_name_id", "table_name", "id"),
        sa.Index("ix_audit_entry_user_label_id", "user_label", "id"),
        # The User filter finds entries by the staff users and contacts whose name or e-mail matches.
        sa.Index("ix_audit_entry_staff_user_id_id", "staff_user_id", "id"),
        sa.Index("ix_audit_entry_contact_id_id", "contact_id", "id"),
    )
