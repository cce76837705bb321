"""The mail queue: one row per message, written in the transaction of the change that causes it.

Not audited: the queue is operational, and a body may hold a temporary password.
"""
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from panel.extensions import db
from panel.types import UTCDateTime, utcnow

STATUSES = ("queued", "sent", "failed")


class MailMessage(db.Model):
    __tablename__ = "mail_message"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    to_addr: so.Mapped[str] = so.mapped_column(sa.String(254))
    subject: so.Mapped[str] = so.mapped_column(sa.String(200))
    # Erased (NULL) once a sensitive message is delivered or has finally failed.
    body: so.Mapped[str | None] = so.mapped_column(sa.Text())
    sensitive: so.Mapped[bool] = so.mapped_column(default=False)
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="queued")
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    last_error: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    next_attempt_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    sent_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    __table_args__ = (
        sa.CheckConstraint(f"status IN {STATUSES!r}", name="status"),
        sa.CheckConstraint("attempts >= 0", name="attempts"),
        # A message still waiting has something to send; a sensitive one keeps nothing once done.
        sa.CheckConstraint("status <> 'queued' OR body IS NOT NULL", name="queued_body"),
        sa.CheckConstraint("status = 'queued' OR NOT sensitive OR body IS NULL", name="sensitive_erased"),
        # What deliver() looks for: queued messages whose next attempt is due.
        sa.Index("ix_mail_message_status_next", "status", "next_attempt_at"),
    )

    def __repr__(self) -> str:
        return f"<MailMessage {self.id} {self.status} to {self.to_addr!r}>"
