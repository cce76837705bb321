"""A batch of Bulk Edit or Bulk mail too big for one request: queued here, run by the worker."""
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from panel.extensions import db
from panel.types import UTCDateTime, utcnow

KINDS = ("edit", "mail")
STATUSES = ("queued", "running", "done", "failed")


class BulkJob(db.Model):
    __tablename__ = "bulk_job"
    __audited__ = True
    # Progress and the worker's heartbeat are written from a second connection while the batch runs
    # (panel/bulk/jobs.py): they are not a change anyone made.
    __audit_ignore__ = frozenset({"done", "heartbeat_at"})

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(10))
    parameters: so.Mapped[str] = so.mapped_column(sa.Text, default="{}")  # JSON: the values or the mail
    selection: so.Mapped[str] = so.mapped_column(sa.Text, default="{}")   # JSON: ids, or the list's filter
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="queued")
    total: so.Mapped[int | None] = so.mapped_column()  # counted by the worker when it runs the batch
    done: so.Mapped[int] = so.mapped_column(default=0)
    result: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_by: so.Mapped[str] = so.mapped_column(sa.String(300), default="")
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("staff_user.id", ondelete="SET NULL"))
    created_ip: so.Mapped[str | None] = so.mapped_column(sa.String(45))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    started_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    heartbeat_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    finished_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    __table_args__ = (
        sa.CheckConstraint(f"kind IN {KINDS!r}", name="kind"),
        sa.CheckConstraint(f"status IN {STATUSES!r}", name="status"),
        sa.Index("ix_bulk_job_status_id", "status", "id"),
    )

    @property
    def percent(self) -> int:
        if self.status == "done":
            return 100
        if not self.total:
            return 0
        return min(100, self.done * 100 // self.total)
