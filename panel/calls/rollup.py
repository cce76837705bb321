"""The hourly roll-up: call records → one row per customer and UTC hour (table call_hour).

Every affected hour is recomputed from the records, never added to, so a roll-up can run any
number of times and a late record (one that arrives after its hour was rolled up) only makes
that hour be recomputed. The affected hours are those of the records received since the last
run (`received_at` after `rollup_state.last_run`), every hour from `since` when it is given,
and everything on the first run.

Runs are serialised, and no record can be half-way in while one runs: on PostgreSQL a run
holds an exclusive advisory lock and every insert of records a shared one on the same key, so
"received after the last run" never misses a record whose transaction was still open; on SQLite
both hold the database's write lock (BEGIN IMMEDIATE). Times for `received_at` and `last_run`
come from the database's clock on PostgreSQL, so the clocks of several machines don't matter.
"""
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from panel import unit_of_work
from panel.calls.models import CallRecord, HourlySummary, RollupState
from panel.extensions import db
from panel.options import get_option
from panel.types import UTCDateTime, utcnow

LOCK_KEY = 0x726F6C6C  # "roll": exclusive for a roll-up, shared for inserts of call records
STATE_NAME = "call_hour"
# The first day (YYYY-MM-DD, UTC) of the oldest month whose raw records are kept, once retention
# has dropped older ones (panel.calls.partitions): a roll-up never recomputes the hours before it,
# so call_hour keeps them.
KEPT_FROM_OPTION = "call_record_kept_from"
HOUR = timedelta(hours=1)
RANGES_PER_STATEMENT = 250  # (customer, hour range) conditions in one statement: 3 parameters each


@dataclass
class RollupReport:
    hours: int  # (customer, hour) rows recomputed
    seconds: float


class hour_of(FunctionElement):
    """The start of the UTC hour a stored (naive UTC) date-time falls in, as the database stores date-times."""

    type = UTCDateTime()
    name = "hour_of"
    inherit_cache = True


@compiles(hour_of, "postgresql")
def _hour_of_postgresql(element, compiler, **kw):
    # 'hour' is written out, not bound: GROUP BY must see the same expression as the select list.
    return f"date_trunc('hour', {compiler.process(element.clauses, **kw)})"


@compiles(hour_of, "sqlite")
def _hour_of_sqlite(element, compiler, **kw):
    # SQLAlchemy stores SQLite date-times as 'YYYY-MM-DD HH:MM:SS.ffffff' text; the hour must be
    # in that same form, or comparing it with a bound date-time (a text comparison) goes wrong.
    return f"strftime('%Y-%m-%d %H:00:00.000000', {compiler.process(element.clauses, **kw)})"


def truncate_to_hour(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; use an aware UTC datetime")
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def database_now(connection) -> datetime:
    """Now, by the database's clock on PostgreSQL (one clock for every machine), else this machine's."""
    if connection.dialect.name == "postgresql":
        return connection.execute(sa.select(sa.func.clock_timestamp())).scalar_one().astimezone(UTC)
    return utcnow()


def hold_off_rollups(connection) -> None:
    """Taken by every insert of call records, in its transaction: a roll-up waits for it to commit."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock_shared(:key)"), {"key": LOCK_KEY})


def _exclusive(connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})


def _insert(connection):
    return (postgresql if connection.dialect.name == "postgresql" else sqlite).insert


def last_run() -> datetime | None:
    """Every record received up to this time is in the hourly figures (None: never rolled up)."""
    return db.session.scalar(sa.select(RollupState.last_run).where(RollupState.name == STATE_NAME))


def last_changed() -> datetime | None:
    """When a roll-up last changed any hourly figure (the Summary's "last updated")."""
    return db.session.scalar(sa.select(RollupState.changed_at).where(RollupState.name == STATE_NAME))


def pending() -> bool:
    """Whether records arrived since the last roll-up (an index lookup on received_at)."""
    since = last_run()
    query = sa.select(CallRecord.id).limit(1)
    if since is not None:
        query = query.where(CallRecord.received_at > since)
    return db.session.scalar(query) is not None


def _ranges(pairs) -> list[tuple[int, datetime, datetime]]:
    """(customer, hour) pairs → (customer, first hour, end) runs of consecutive hours."""
    runs = []
    for customer_id, hour in sorted(pairs):
        if runs and runs[-1][0] == customer_id and runs[-1][2] == hour:
            runs[-1][2] = hour + HOUR
        else:
            runs.append([customer_id, hour, hour + HOUR])
    return [tuple(run) for run in runs]


def figures_query(condition) -> sa.Select:
    """The hourly figures of the records matching `condition` (ranges of start_time: on PostgreSQL
    only the months' partitions those ranges fall in are read)."""
    r = CallRecord.__table__
    hour = hour_of(r.c.start_time)
    return (
        sa.select(
            r.c.customer_id,
            hour,
            sa.func.count(),
            sa.func.sum(sa.case((r.c.answered, 1), else_=0)),
            sa.func.sum(r.c.duration_seconds),
            sa.func.sum(r.c.billed_seconds),
            # Exact NUMERIC sums on PostgreSQL; SQLite sums floating point: round back to 4 places.
            sa.func.round(sa.func.sum(r.c.cost), 4),
            sa.func.round(sa.func.sum(r.c.charge), 4),
        )
        .where(condition)  # a WHERE is needed anyway: SQLite parses INSERT … SELECT … ON CONFLICT only with one
        .group_by(r.c.customer_id, hour)
    )


def _recompute(connection, condition) -> int:
    """Recompute the hours of the records matching `condition`; returns how many rows were written."""
    figures = figures_query(condition)
    h = HourlySummary.__table__
    columns = ["customer_id", "hour", "calls", "answered", "seconds", "billed_seconds", "cost", "charge"]
    statement = _insert(connection)(h).from_select(columns, figures)
    statement = statement.on_conflict_do_update(
        index_elements=[h.c.customer_id, h.c.hour],
        set_={name: statement.excluded[name] for name in columns[2:]},
    )
    # RETURNING counts the rows written on both databases (psycopg gives no rowcount here).
    return len(connection.execute(statement.returning(h.c.customer_id)).all())


def _kept_from() -> datetime | None:
    text = get_option(KEPT_FROM_OPTION)
    if not text:
        return None
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def rollup(since: datetime | None = None) -> RollupReport:
    """Recompute the hourly figures that new or late records touched (and every hour from `since`,
    an aware datetime): one unit of work of its own, which holds the roll-up lock until it commits."""
    with unit_of_work.unit():
        return _rollup(since)


def _rollup(since: datetime | None) -> RollupReport:
    started = time.monotonic()
    from_hour = truncate_to_hour(since) if since is not None else None
    session = db.session
    connection = session.connection()  # SQLite: BEGIN IMMEDIATE, the write lock
    _exclusive(connection)
    now = database_now(connection)
    previous = last_run()
    r, h = CallRecord.__table__, HourlySummary.__table__
    written = 0
    kept_from = _kept_from()
    # Retention dropped the records before kept_from: a full recompute starts there, and the hours
    # before it stay as they were.
    if previous is None:
        from_hour = kept_from  # None: everything, from scratch
    elif kept_from is not None and from_hour is not None and from_hour < kept_from:
        from_hour = kept_from

    if previous is None and from_hour is None:  # the first run: everything, from scratch
        connection.execute(sa.delete(h))
        written += _recompute(connection, sa.true())
    else:
        if from_hour is not None:
            connection.execute(sa.delete(h).where(h.c.hour >= from_hour))
            written += _recompute(connection, r.c.start_time >= from_hour)
        # The hours of the records received since the last run (those from `from_hour` on are done).
        hours = [] if previous is None else connection.execute(
            sa.select(r.c.customer_id, hour_of(r.c.start_time)).where(r.c.received_at > previous).distinct()
        ).all()
        # Not the hours before kept_from: their figures stay, a late record of such a month
        # (stored again in a partition made for it) does not replace them.
        pairs = {(c, hour) for c, hour in hours
                 if (from_hour is None or hour < from_hour) and (kept_from is None or hour >= kept_from)}
        runs = _ranges(pairs)
        for i in range(0, len(runs), RANGES_PER_STATEMENT):
            chunk = runs[i:i + RANGES_PER_STATEMENT]
            written += _recompute(connection, sa.or_(*(
                sa.and_(r.c.customer_id == c, r.c.start_time >= first, r.c.start_time < end)
                for c, first, end in chunk
            )))

    state = session.get(RollupState, STATE_NAME)
    if state is None:
        state = RollupState(name=STATE_NAME, last_run=now)
        session.add(state)
    state.last_run = now
    if written:
        state.changed_at = now
    session.flush()
    return RollupReport(hours=written, seconds=time.monotonic() - started)


def rollup_job() -> str | None:
    """The worker's job: a roll-up only when records arrived since the last one."""
    if not pending():
        return None
    report = rollup()
    return f"{report.hours} customer-hours recomputed in {report.seconds:.1f} s"
