"""Call records as the switch sends them, and the hourly figures rolled up from them.

Neither table is audited: call records are raw traffic (millions of rows, never edited by
anyone) and the hourly figures are derived from them and can be recomputed at any time.
"""
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from panel.extensions import db
from panel.types import Money, UTCDateTime, utcnow

# A 64-bit key on PostgreSQL; SQLite only auto-increments a key declared INTEGER (which is 64-bit there).
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class CallRecord(db.Model):
    """One call as the switch billed it. A record sent twice is stored once: (source, call_id) names it
    on SQLite, (source, call_id, start_time) on PostgreSQL, where the table is partitioned by month
    (a partitioned table's unique keys must hold the partition key; the switch re-sends identical
    records, same call id and same start time, so they are still stored once).

    On PostgreSQL (migration 0021, panel.calls.partitions) the table is PARTITION BY RANGE
    (start_time), one partition per UTC month, and its primary key is (id, start_time). The ORM
    names a record by `id` alone on both databases (ids come from one sequence and are unique);
    SQLite keeps one table whose INTEGER PRIMARY KEY id auto-increments. The schema is made by the
    migrations only (nothing calls create_all).
    """

    __tablename__ = "call_record"

    id: so.Mapped[int] = so.mapped_column(BigId, primary_key=True)
    customer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("customer.id", ondelete="RESTRICT"))
    source: so.Mapped[str] = so.mapped_column(sa.String(64))
    call_id: so.Mapped[str] = so.mapped_column(sa.String(128))
    start_time: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    destination: so.Mapped[str] = so.mapped_column(sa.String(64), default="")
    answered: so.Mapped[bool] = so.mapped_column(default=False)
    duration_seconds: so.Mapped[int] = so.mapped_column(default=0)
    billed_seconds: so.Mapped[int] = so.mapped_column(default=0)
    rate: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(18, 6, asdecimal=True), default=Decimal(0))
    cost: so.Mapped[Decimal] = so.mapped_column(Money(), default=Decimal(0))
    charge: so.Mapped[Decimal] = so.mapped_column(Money(), default=Decimal(0))
    # When the panel stored it: the roll-up recomputes the hours of records received since its last run.
    received_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow, index=True)

    __table_args__ = (
        # The dedup key, one per database (see the class): tests/db compares each database with the
        # constraints made for it (ddl_if).
        sa.UniqueConstraint("source", "call_id", name="uq_call_record_source_call_id").ddl_if(dialect="sqlite"),
        sa.UniqueConstraint("source", "call_id", "start_time",
                            name="uq_call_record_source_call_id_start_time").ddl_if(dialect="postgresql"),
        sa.CheckConstraint("duration_seconds >= 0", name="duration_seconds"),
        sa.CheckConstraint("billed_seconds >= 0", name="billed_seconds"),
        sa.CheckConstraint("rate >= 0", name="rate"),
        sa.CheckConstraint("cost >= 0", name="cost"),
        sa.CheckConstraint("charge >= 0", name="charge"),
        # A customer's calls in a period: the roll-up and the Summary read them through this.
        sa.Index("ix_call_record_customer_id_start_time", "customer_id", "start_time"),
    )

    def __repr__(self) -> str:
        return f"<CallRecord {self.source}/{self.call_id} customer {self.customer_id}>"


class HourlySummary(db.Model):
    """A customer's calls in one UTC hour, recomputed from the call records by panel.calls.rollup."""

    __tablename__ = "call_hour"

    customer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("customer.id", ondelete="RESTRICT"), primary_key=True)
    hour: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), primary_key=True)  # the hour's start, UTC
    calls: so.Mapped[int] = so.mapped_column(default=0)
    answered: so.Mapped[int] = so.mapped_column(default=0)
    seconds: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    billed_seconds: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    cost: so.Mapped[Decimal] = so.mapped_column(Money(), default=Decimal(0))
    charge: so.Mapped[Decimal] = so.mapped_column(Money(), default=Decimal(0))

    __table_args__ = (
        # Every customer's hours in a period (a recompute from a date, account-wide reports).
        sa.Index("ix_call_hour_hour", "hour"),
    )

    def __repr__(self) -> str:
        return f"<HourlySummary customer {self.customer_id} {self.hour:%Y-%m-%d %H}:00 {self.calls} calls>"


class RollupState(db.Model):
    """How far a roll-up has got: every record received up to `last_run` is in its figures."""

    __tablename__ = "rollup_state"

    name: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    last_run: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    # When a run last changed any figure (the Summary's "last updated").
    changed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
