"""Monthly partitions of call_record on PostgreSQL, and the retention of raw records.

Migration 0021 makes call_record `PARTITION BY RANGE (start_time)`: one partition per UTC month,
named call_record_YYYY_MM, and call_record_default, which catches a record of a month that has no
partition yet and normally stays empty. Here:

- `make_ahead` makes this month's partition and the next MONTHS_AHEAD (the worker, every pass: one
  look at pg_class when they are all there);
- `adopt_default` gives the records that fell into the default partition their month's partition
  (made, filled from the default partition and attached in one transaction): after an import, and
  on the worker's pass;
- `apply_retention` drops whole partitions older than the retention setting (months of raw records
  to keep, call_record_retention_months; empty keeps all), never the current month, and only once
  their records are rolled up; each drop is an audit entry. call_hour, invoices and the Summary keep
  the history; `rollup(since=…)` recomputes nothing before the oldest month kept.

A partition is made as a plain table and then attached: ATTACH PARTITION takes only a SHARE UPDATE
EXCLUSIVE lock on call_record, so imports and reads of other months go on meanwhile. SQLite keeps
one table and every function here does nothing there.
"""
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from panel import actor as actors
from panel.audit.recorder import record_event
from panel.calls.rollup import KEPT_FROM_OPTION, _exclusive
from panel.calls.models import RollupState
from panel.extensions import db
from panel.options import get_option, set_option
from panel.types import UTCDateTime

PARENT = "call_record"
DEFAULT = "call_record_default"
MONTHS_AHEAD = 3
RETENTION_OPTION = "call_record_retention_months"
MAX_RETENTION = 1200  # months (a hundred years): the Options form's bound
LOCK_KEY = 0x70617274  # "part": one session at a time makes, fills or drops partitions
_NAME = re.compile(r"^call_record_(\d{4})_(\d{2})$")


@dataclass
class Partition:
    name: str
    month: datetime | None  # its first moment (naive UTC); None for the default partition
    rows: int  # PostgreSQL's estimate (pg_class.reltuples; -1 before the first ANALYZE or VACUUM)
    bytes: int  # table and indexes


def month_of(moment: datetime) -> datetime:
    """The first moment (naive UTC) of the UTC month `moment` falls in."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return datetime(moment.year, moment.month, 1)


def add_months(month: datetime, count: int) -> datetime:
    index = month.year * 12 + month.month - 1 + count
    return datetime(index // 12, index % 12 + 1, 1)


def partition_name(month: datetime) -> str:
    return f"call_record_{month:%Y_%m}"


def is_partitioned(connection) -> bool:
    if connection.dialect.name != "postgresql":
        return False
    return connection.execute(sa.text(
        "SELECT relkind = 'p' FROM pg_class WHERE oid = to_regclass('call_record')")).scalar() is True


def _months(connection) -> dict[datetime, str]:
    """The months that have a partition (one look at pg_inherits and pg_class)."""
    names = connection.execute(sa.text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'call_record'::regclass")).scalars()
    months = {}
    for name in names:
        found = _NAME.match(name)
        if found:
            months[datetime(int(found[1]), int(found[2]), 1)] = name
    return months


def _lock(connection, wait: bool) -> bool:
    if wait:
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        return True
    return bool(connection.execute(sa.text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": LOCK_KEY}).scalar())


def _make(connection, month: datetime) -> int:
    """Make `month`'s partition (the caller holds the lock and has checked it is missing), moving the
    rows of that month out of the default partition into it first; returns the rows moved."""
    name, start, end = partition_name(month), month, add_months(month, 1)
    bounds = {"start": start, "end": end}
    connection.execute(sa.text(
        f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"))
    # Rows of the month that went to the default partition: locked (ATTACH needs that lock anyway,
    # and no insert can put another row there meanwhile), copied, deleted.
    connection.execute(sa.text(f"LOCK TABLE {DEFAULT} IN ACCESS EXCLUSIVE MODE"))
    moved = connection.execute(sa.text(
        f"INSERT INTO {name} SELECT * FROM {DEFAULT} WHERE start_time >= :start AND start_time < :end"), bounds).rowcount
    if moved:
        connection.execute(sa.text(f"DELETE FROM {DEFAULT} WHERE start_time >= :start AND start_time < :end"), bounds)
    # The bound as a CHECK first: ATTACH then needs no scan of the new table to prove it.
    connection.execute(sa.text(
        f"ALTER TABLE {name} ADD CONSTRAINT {name}_bound CHECK (start_time >= '{start:%Y-%m-%d}' "
        f"AND start_time < '{end:%Y-%m-%d}')"))
    connection.execute(sa.text(
        f"ALTER TABLE {PARENT} ATTACH PARTITION {name} FOR VALUES FROM ('{start:%Y-%m-%d}') TO ('{end:%Y-%m-%d}')"))
    connection.execute(sa.text(f"ALTER TABLE {name} DROP CONSTRAINT {name}_bound"))
    return moved


def make_ahead(connection, ahead: int = MONTHS_AHEAD, now: datetime | None = None) -> list[str]:
    """Make this month's partition and the next `ahead` where missing; returns the names made."""
    if not is_partitioned(connection):
        return []
    first = month_of(now or datetime.now(UTC))
    wanted = [add_months(first, k) for k in range(ahead + 1)]
    if all(month in _months(connection) for month in wanted):
        return []  # the usual pass: nothing to lock
    _lock(connection, wait=True)
    have = _months(connection)
    made = []
    for month in wanted:
        if month not in have:
            _make(connection, month)
            made.append(partition_name(month))
    return made


def adopt_default(connection, wait: bool = True) -> list[str]:
    """Give the records in the default partition their months' partitions; returns the names made.
    `wait=False` (inside a transaction that has inserted records): leave it to the next import or
    the worker's pass when another session is at it, rather than wait for it (which could deadlock)."""
    if not is_partitioned(connection):
        return []
    if connection.execute(sa.text(f"SELECT EXISTS (SELECT FROM {DEFAULT})")).scalar() is not True:
        return []  # the usual case: an empty table looked at
    if not _lock(connection, wait):
        return []
    have = _months(connection)
    months = [month_of(m) for m in connection.execute(sa.text(
        f"SELECT DISTINCT date_trunc('month', start_time) FROM {DEFAULT}")).scalars()]
    made = []
    for month in sorted(set(months)):
        if month not in have:  # cannot be: PostgreSQL routes a row with a partition to it
            _make(connection, month)
            made.append(partition_name(month))
    return made


def listing(connection) -> list[Partition]:
    """Every partition, the oldest month first, the default partition last."""
    rows = connection.execute(sa.text(
        "SELECT c.relname, c.reltuples::bigint, pg_total_relation_size(c.oid) FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'call_record'::regclass")).all()
    partitions = []
    for name, estimate, size in rows:
        found = _NAME.match(name)
        month = datetime(int(found[1]), int(found[2]), 1) if found else None
        partitions.append(Partition(name, month, int(estimate), int(size)))
    return sorted(partitions, key=lambda p: (p.month is None, p.month or datetime.min, p.name))


# --- retention ----------------------------------------------------------------------------------

def parse_retention(text: str | None) -> int | None:
    """The setting's text → months to keep (None: keep all); ValueError with a message for the form."""
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise ValueError("Give a whole number of months, such as 24, or leave it empty to keep every record.")
    months = int(text)
    if not 1 <= months <= MAX_RETENTION:
        raise ValueError(f"Give between 1 and {MAX_RETENTION} months, or leave it empty to keep every record.")
    return months


def retention_months() -> int | None:
    try:
        return parse_retention(get_option(RETENTION_OPTION))
    except ValueError:
        return None  # a value set by hand and not understood keeps everything


def cutoff(keep: int, now: datetime | None = None) -> datetime:
    """With `keep` months kept, partitions of months before this one are dropped: the current month
    and the `keep` before it stay."""
    return add_months(month_of(now or datetime.now(UTC)), -keep)


@dataclass
class Retention:
    dropped: list[str]
    waiting: list[str]  # old enough, but holding records the roll-up has not seen yet


def apply_retention(actor, keep: int | None = None, now: datetime | None = None) -> Retention:
    """Drop the partitions of months before `cutoff(keep)` (`keep`: the setting when not given);
    the caller's unit of work commits. Holds the roll-up's lock, so no import or roll-up is under
    way; a partition with records received since the last roll-up waits for the next one."""
    keep = retention_months() if keep is None else keep
    connection = db.session.connection()
    if keep is None or not is_partitioned(connection):
        return Retention([], [])
    limit = cutoff(keep, now)
    old = {month: name for month, name in _months(connection).items() if add_months(month, 1) <= limit}
    if not old:
        return Retention([], [])
    _exclusive(connection)
    _lock(connection, wait=True)
    state = db.session.get(RollupState, "call_hour")
    dropped, waiting = [], []
    for month, name in sorted(_months(connection).items()):
        if month not in old:
            continue
        if state is None:
            unseen = connection.execute(sa.text(f"SELECT EXISTS (SELECT FROM {name})")).scalar()
        else:
            unseen = connection.execute(
                sa.text(f"SELECT EXISTS (SELECT FROM {name} WHERE received_at > :last)").bindparams(
                    sa.bindparam("last", type_=UTCDateTime())), {"last": state.last_run}).scalar()
        if unseen:
            waiting.append(name)
            continue
        estimate = connection.execute(sa.text("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(:n)"),
                                      {"n": name}).scalar()
        connection.execute(sa.text(f"DROP TABLE {name}"))
        record_event("DELETE", "Calls dropped", actor=actor, table_name="call_record", row_id=name,
                     data={"partition": name, "month": f"{month:%Y-%m}", "rows_estimate": max(int(estimate), 0),
                           "retention_months": keep})
        dropped.append(name)
    if dropped:
        kept_from = add_months(max(m for m, n in old.items() if n in dropped), 1)
        previous = get_option(KEPT_FROM_OPTION)
        if not previous or previous < f"{kept_from:%Y-%m-%d}":
            set_option(KEPT_FROM_OPTION, f"{kept_from:%Y-%m-%d}")
    return Retention(dropped, waiting)


def worker_job() -> str | None:
    """The worker's step, every pass: partitions ahead, the default partition emptied, retention."""
    connection = db.session.connection()
    if not is_partitioned(connection):
        return None
    made = make_ahead(connection) + adopt_default(connection)
    retention = apply_retention(actors.SYSTEM)
    parts = []
    if made:
        parts.append("made " + ", ".join(made))
    if retention.dropped:
        parts.append("dropped " + ", ".join(retention.dropped))
    if retention.waiting:
        parts.append("kept until rolled up: " + ", ".join(retention.waiting))
    return "; ".join(parts) or None
