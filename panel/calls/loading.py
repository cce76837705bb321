"""Storing call records: batches of parsed records (the API, and CSV files on SQLite) and CSV files
loaded through COPY on PostgreSQL.

A record sent twice is stored once (the unique (source, call_id) on SQLite, (source, call_id,
start_time) on PostgreSQL, where call_record is partitioned by month: the switch re-sends identical
records), and records of unknown customers
are refused. On SQLite a file's batches go in one after the other through `insert_records`. On
PostgreSQL (tests/bench/bench_calls.py) WORKERS connections load batches of PARALLEL_BATCH side by
side while the file is read on: a batch's customers are checked once each, and a batch of new
records of known customers is COPYed straight into call_record; one that holds a record already
stored, or a customer that is not there, goes through a temporary table (see `_load_batch`).
"""
import csv
import io
import operator
import queue
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from panel import unit_of_work
from panel.calls import partitions
from panel.calls.models import CallRecord
from panel.calls.parsing import COLUMNS, Records, RecordError, parse_row
from panel.calls.rollup import _insert, database_now, hold_off_rollups
from panel.customers.models import Customer
from panel.extensions import db
from panel.types import UTCDateTime

if TYPE_CHECKING:
    from panel.calls.importer import ImportReport

BATCH = 20_000  # records a transaction on SQLite
# PostgreSQL: records a transaction (a large batch visits each page of the (customer, start time)
# index once for many rows), and connections loading batches at once.
PARALLEL_BATCH = 100_000
WORKERS = 2


# --- batches of parsed records ------------------------------------------------------------------

def check_source(source: str) -> str:
    text = (source or "").strip() if isinstance(source, str) else ""
    if not text:
        raise RecordError("source: give the name of the switch the records come from")
    if len(text) > 64:
        raise RecordError("source: longer than 64 characters")
    return text


def unknown_customers(ids) -> set[int]:
    """Those of `ids` that name no customer."""
    ids = set(ids)
    if not ids:
        return set()
    known = set(db.session.scalars(sa.select(Customer.id).where(Customer.id.in_(ids))))
    return ids - known


def check_records(items) -> tuple[list[dict], list[tuple]]:
    """(key, raw record) pairs → the good records, parsed, and (key, message) for each bad one."""
    parsed, errors = [], []
    for key, raw in items:
        try:
            parsed.append((key, parse_row(raw)))
        except ValueError as error:
            errors.append((key, str(error)))
    good, refused = _known_customers(parsed)
    errors.extend(refused)
    errors.sort(key=lambda error: error[0])
    return good, errors


def _known_customers(parsed: list[tuple]) -> tuple[list[dict], list[tuple]]:
    """(key, parsed record) pairs → the records of known customers, and (key, message) for the others."""
    unknown = unknown_customers({row["customer_id"] for _, row in parsed})
    if not unknown:
        return [row for _, row in parsed], []
    good, errors = [], []
    for key, row in parsed:
        if row["customer_id"] in unknown:
            errors.append((key, f"customer_id: there is no customer {row['customer_id']}"))
        else:
            good.append(row)
    return good, errors


def insert_records(rows: list[dict], source: str) -> tuple[int, int]:
    """Store parsed records of known customers; one already stored (same source and call_id) is
    skipped. The caller's unit of work commits. Returns (inserted, duplicates)."""
    source = check_source(source)
    if not rows:
        return 0, 0
    connection = db.session.connection()
    hold_off_rollups(connection)
    received_at = database_now(connection)  # after the lock: a roll-up running now sees these next time
    if connection.dialect.name == "postgresql":
        inserted = _insert_postgresql(connection, rows, source, received_at)
        partitions.adopt_default(connection, wait=False)  # records of a month without its partition yet
    else:
        values = [{**row, "source": source, "received_at": received_at} for row in rows]
        table = CallRecord.__table__
        statement = (
            _insert(connection)(table)
            .on_conflict_do_nothing(index_elements=[table.c.source, table.c.call_id])
            .returning(table.c.id)
        )
        inserted = len(db.session.execute(statement, values).all())
    return inserted, len(rows) - inserted


# The temporary table holds the parsed COLUMNS in their order; source and received_at are the
# same for a whole batch and go in as parameters of the INSERT.
_STAGE = ("CREATE TEMPORARY TABLE call_record_in (customer_id integer, call_id text, start_time timestamptz, "
          "destination text, answered boolean, duration_seconds integer, billed_seconds integer, "
          "rate numeric, cost numeric, charge numeric) ON COMMIT DROP")
_MOVE = sa.text(
    "INSERT INTO call_record (customer_id, source, call_id, start_time, destination, answered, duration_seconds, "
    "billed_seconds, rate, cost, charge, received_at) "
    "SELECT customer_id, :source, call_id, start_time AT TIME ZONE 'UTC', destination, answered, duration_seconds, "
    "billed_seconds, rate, cost, charge, :received_at FROM call_record_in "
    "ON CONFLICT (source, call_id, start_time) DO NOTHING"
).bindparams(sa.bindparam("source", type_=sa.String()), sa.bindparam("received_at", type_=UTCDateTime()))


def _insert_postgresql(connection, rows: list[dict], source: str, received_at: datetime) -> int:
    """COPY the batch into a temporary table (dropped at commit), then one INSERT … SELECT … ON
    CONFLICT DO NOTHING: several times faster than binding every value. Returns the rows inserted.
    Start times are aware UTC datetimes: COPYed as timestamptz, stored as naive UTC."""
    pick = operator.itemgetter(*COLUMNS)
    driver = connection.connection.driver_connection  # psycopg's connection, in the session's transaction
    with driver.cursor() as cursor:
        cursor.execute(_STAGE)
        with cursor.copy("COPY call_record_in FROM STDIN") as copy:
            write = copy.write_row
            for row in rows:
                write(pick(row))
    return connection.execute(_MOVE, {"source": source, "received_at": received_at}).rowcount


def _csv_body(row: dict) -> str:
    """A parsed record as COPY takes it: CSV, COLUMNS in order, the start time in UTC, no line break."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow((
        row["customer_id"], row["call_id"], row["start_time"].isoformat(), row["destination"],
        "t" if row["answered"] else "f", row["duration_seconds"], row["billed_seconds"],
        f"{row['rate']:f}", f"{row['cost']:f}", f"{row['charge']:f}"))
    return out.getvalue()


# --- loading batches through several connections (PostgreSQL) ----------------------------------

# A batch of new records of known customers goes straight into call_record: COPY inserts the heap a
# block at a time, with no temporary table and no INSERT … SELECT to plan and sort (see _load_batch).
# Its records are COPYed in customer order, the order of the (customer, start time) index that new
# rows land all over: each of that index's pages is then visited once a batch, not once a row. The
# start times are UTC (`plain_row` takes no other offset): call_record.start_time is a timestamp
# without time zone, which reads the time and ignores an offset.
_COPY_DIRECT = ("COPY call_record (" + ", ".join(COLUMNS) + ", source, received_at) "
                "FROM STDIN (FORMAT csv, FORCE_NOT_NULL (destination))")  # an empty destination is '', not NULL
# A batch holding a record already stored (or given twice in it), or a customer that is not there, goes
# through a temporary table instead: the unknown customers' records are refused by line, and the rest
# moved with one INSERT … SELECT … ON CONFLICT DO NOTHING.
_STAGE_CSV = ("CREATE TEMPORARY TABLE call_record_csv (line integer, customer_id integer, call_id text, "
              "start_time timestamptz, destination text, answered boolean, duration_seconds integer, "
              "billed_seconds integer, rate numeric, cost numeric, charge numeric) ON COMMIT DROP")
_COPY_CSV = "COPY call_record_csv FROM STDIN (FORMAT csv, FORCE_NOT_NULL (destination))"
_INSERT_CSV = (
    "INSERT INTO call_record (customer_id, source, call_id, start_time, destination, answered, duration_seconds, "
    "billed_seconds, rate, cost, charge, received_at) "
    "SELECT customer_id, :source, call_id, start_time AT TIME ZONE 'UTC', destination, answered, duration_seconds, "
    "billed_seconds, rate, cost, charge, :received_at FROM call_record_csv s "
)
_PARAMETERS = (sa.bindparam("source", type_=sa.String()), sa.bindparam("received_at", type_=UTCDateTime()))
# A plain INSERT when no record is known to be stored already (ON CONFLICT DO NOTHING costs several µs a
# row more); it fails on the unique index if one is, and the batch then goes in with ON CONFLICT.
_MOVE_NEW = sa.text(_INSERT_CSV + "ORDER BY customer_id, start_time").bindparams(*_PARAMETERS)
_MOVE_ANY = sa.text(
    _INSERT_CSV + "ORDER BY customer_id, start_time ON CONFLICT (source, call_id, start_time) DO NOTHING"
).bindparams(*_PARAMETERS)
# A record stored meanwhile by another transaction; two batches sharing call ids waited for each other.
RETRY_WITH_ON_CONFLICT = {"23505", "40P01"}  # unique_violation, deadlock_detected


@dataclass
class _Batch:
    lines: list[int]  # each record's line in the file
    records: list[str]  # each record as CSV in COLUMNS order, start time in UTC, no line break (`_csv_body`)

    def staged(self) -> str:
        """The batch as the lines of _COPY_CSV: line number, then the record."""
        return "".join([f"{line},{record}\n" for line, record in zip(self.lines, self.records)])


@dataclass
class _Loaded:
    inserted: int
    duplicates: int
    refused: list[tuple[int, str]]  # (line, message)


# The foreign key's trigger checks each new row on its own (SELECT … FROM customer … FOR KEY SHARE):
# with two connections loading, that was half of PostgreSQL's work a row (about 38 µs of CPU a row
# with it, 20 without, measured with 10 million records stored). A batch does the same check once
# per customer: it locks its customers FOR KEY SHARE (none can be deleted until it commits),
# refuses the rows of the others, and inserts with the triggers of call_record off for its
# transaction (session_replication_role = replica). Only when those triggers are all the foreign
# key's, and the role may do that: a superuser, or (PostgreSQL 15 and later) an ordinary role granted
# `GRANT SET ON PARAMETER session_replication_role TO …`; otherwise the trigger checks every row.
# On PostgreSQL call_record is partitioned by month (panel.calls.partitions): the foreign key is the
# parent's constraint, cloned on every partition (conparentid), and its check triggers live on the
# partitions. Every table of the tree is looked at, so a trigger or rule added to any partition
# makes batches fall back to the trigger's per-row check.
_CHECKS_ONLY_THE_CUSTOMER = """
    WITH RECURSIVE tree AS (
      SELECT 'call_record'::regclass::oid AS oid
      UNION ALL SELECT i.inhrelid FROM pg_inherits i JOIN tree t ON i.inhparent = t.oid),
    parent_fk AS (
      SELECT oid FROM pg_constraint
      WHERE conrelid = 'call_record'::regclass AND contype = 'f' AND confrelid = 'customer'::regclass
        AND conkey = ARRAY[(SELECT attnum FROM pg_attribute WHERE attrelid = 'call_record'::regclass AND attname = 'customer_id')]
        AND confkey = ARRAY[(SELECT attnum FROM pg_attribute WHERE attrelid = 'customer'::regclass AND attname = 'id')]),
    fk AS (
      SELECT oid FROM parent_fk
      UNION ALL SELECT c.oid FROM pg_constraint c WHERE c.contype = 'f' AND c.conparentid IN (SELECT oid FROM parent_fk))
    SELECT {role_may} AND (SELECT count(*) FROM parent_fk) = 1
      AND NOT EXISTS (SELECT FROM pg_constraint WHERE contype = 'f' AND conrelid IN (SELECT oid FROM tree)
                      AND oid NOT IN (SELECT oid FROM fk))
      AND NOT EXISTS (SELECT FROM pg_trigger WHERE tgrelid IN (SELECT oid FROM tree) AND tgconstraint NOT IN (SELECT oid FROM fk))
      AND NOT EXISTS (SELECT FROM pg_rewrite WHERE ev_class IN (SELECT oid FROM tree))"""
_SUPERUSER = "current_setting('is_superuser') = 'on'"
_GRANTED = "has_parameter_privilege('session_replication_role', 'SET')"  # PostgreSQL 15 and later
# A batch's customers, each looked up once through the primary key and locked FOR KEY SHARE (none can be
# deleted until the batch commits): those that do not exist. The locking sub-select keeps it a lookup a
# customer; a join of the batch with customer (NOT EXISTS without the lock) was planned as a hash of the
# whole customer table, a second a batch with a million customers.
_UNKNOWN_CUSTOMERS = sa.text(
    "SELECT id FROM unnest(:ids) AS batch(id) "
    "WHERE NOT EXISTS (SELECT FROM customer c WHERE c.id = batch.id FOR KEY SHARE)"
).bindparams(sa.bindparam("ids", type_=postgresql.ARRAY(sa.Integer())))
_REFUSE = sa.text("DELETE FROM call_record_csv WHERE customer_id = ANY(:unknown) RETURNING line, customer_id"
                  ).bindparams(sa.bindparam("unknown", type_=postgresql.ARRAY(sa.Integer())))


def _customer(record: str) -> int:
    return int(record[:record.index(",")])


def checks_customers_per_batch(connection) -> bool:
    """Whether batches may check their customers once each instead of the trigger checking every row."""
    role_may = _SUPERUSER
    if connection.dialect.server_version_info >= (15,):
        role_may = f"({_SUPERUSER} OR {_GRANTED})"
    return bool(connection.execute(sa.text(_CHECKS_ONLY_THE_CUSTOMER.format(role_may=role_may))).scalar())


def _load_batch(connection, batch: _Batch, source: str, per_batch: bool) -> _Loaded:
    """One batch in one transaction: its customers checked (and locked) once each, then COPYed straight into
    call_record, or through a temporary table when it holds an unknown customer or a record already stored
    (`per_batch`: see checks_customers_per_batch)."""
    customers = list(map(_customer, batch.records))
    with connection.begin():
        hold_off_rollups(connection)
        received_at = database_now(connection)  # after the lock: a roll-up running now sees these next time
        connection.execute(sa.text("SET LOCAL TimeZone = 'UTC'"))
        unknown = connection.execute(_UNKNOWN_CUSTOMERS, {"ids": sorted(set(customers))}).scalars().all()
        if per_batch:
            connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
        values = {"source": source, "received_at": received_at}
        if not unknown:
            try:
                with connection.begin_nested():
                    _copy_direct(connection, batch, customers, source, received_at)
                return _Loaded(len(batch.records), 0, [])
            except Exception as error:  # the driver's own error: COPY goes through its cursor
                if _sqlstate(error) not in RETRY_WITH_ON_CONFLICT:
                    raise
        inserted, refused = _stage(connection, batch, unknown, values, on_conflict=not unknown)
    messages = [(line, f"customer_id: there is no customer {customer}") for line, customer in refused]
    return _Loaded(inserted, len(batch.records) - inserted - len(refused), messages)


def _sqlstate(error: Exception) -> str | None:
    return getattr(getattr(error, "orig", error), "sqlstate", None)


def _copy_direct(connection, batch: _Batch, customers: list[int], source: str, received_at: datetime) -> None:
    """COPY the batch into call_record, in customer order (file order within a customer)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(("", source, received_at.astimezone(UTC).isoformat()))
    end = out.getvalue()  # ",source,received_at\n", quoted as CSV needs
    order = sorted(range(len(customers)), key=customers.__getitem__)
    records = batch.records
    with connection.connection.driver_connection.cursor() as cursor:
        with cursor.copy(_COPY_DIRECT) as copy:
            copy.write(end.join([records[i] for i in order]) + end)


def _stage(connection, batch: _Batch, unknown: list[int], values: dict, on_conflict: bool) -> tuple[int, list]:
    """COPY the batch into a temporary table, refuse the records of `unknown` customers, move the rest:
    (records inserted, (line, customer) of each refused)."""
    with connection.connection.driver_connection.cursor() as cursor:
        cursor.execute(_STAGE_CSV)
        with cursor.copy(_COPY_CSV) as copy:
            copy.write(batch.staged())
    refused = sorted(connection.execute(_REFUSE, {"unknown": unknown}).all()) if unknown else []
    if on_conflict:
        return connection.execute(_MOVE_ANY, values).rowcount, refused
    try:
        with connection.begin_nested():
            return connection.execute(_MOVE_NEW, values).rowcount, refused
    except sa.exc.DBAPIError as error:
        if _sqlstate(error) not in RETRY_WITH_ON_CONFLICT:
            raise
    return connection.execute(_MOVE_ANY, values).rowcount, refused


class _Loaders:
    """Loads batches through up to `workers` connections at once, each batch in its own transaction,
    while the caller reads on: on a machine of a few cores, parsing in Python and PostgreSQL's work
    on the batches take a core each. Results are taken in the order the batches were given."""

    def __init__(self, source: str, workers: int, taken: Callable[[_Loaded], None]):
        self.source, self.taken = source, taken
        self.engine = db.engine
        with self.engine.connect() as connection:
            self.per_batch = checks_customers_per_batch(connection)
        self.free = queue.SimpleQueue()  # connections between batches
        self.connections = []
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cdr-loader")
        self.pending = deque()
        self.ahead = 2 * workers  # batches read ahead of the loaders, at most: bounds the memory used

    def load(self, batch: _Batch) -> None:
        self.pending.append(self.pool.submit(self._load, batch))
        while self.pending and (len(self.pending) > self.ahead or self.pending[0].done()):
            self.taken(self.pending.popleft().result())

    def finish(self) -> None:
        """Wait for every batch given; their results are taken."""
        while self.pending:
            self.taken(self.pending.popleft().result())

    def close(self) -> None:
        """Wait for the batches under way (taking no more results) and close the connections."""
        self.pool.shutdown(wait=True, cancel_futures=True)
        for connection in self.connections:
            connection.close()

    def _load(self, batch: _Batch) -> _Loaded:
        try:
            connection = self.free.get_nowait()
        except queue.Empty:
            connection = self.engine.connect()
            self.connections.append(connection)
        try:
            return _load_batch(connection, batch, self.source, self.per_batch)
        finally:
            self.free.put(connection)



# --- CSV files ----------------------------------------------------------------------------------

def load_parallel(records: Records, source: str, report: "ImportReport", batch_size: int, workers: int,
                  tick: Callable[[], None]) -> None:
    """PostgreSQL: plain rows go to COPY as they are, parsed ones as CSV (`_csv_body`); batches of
    `batch_size` records load side by side. On a read error the batches given are finished first,
    so the report counts what went in."""
    def taken(loaded: _Loaded):
        report.inserted += loaded.inserted
        report.duplicates += loaded.duplicates
        report.bad.extend(loaded.refused)
        tick()

    loaders = _Loaders(source, workers, taken)
    try:
        lines, batch, read = [], [], 0
        try:
            for line, record in records.read(plain=True):
                read += 1
                if type(record) is str:
                    lines.append(line)
                    batch.append(record)
                elif type(record) is dict:
                    lines.append(line)
                    batch.append(_csv_body(record))
                else:
                    report.bad.append((line, str(record)))
                if read >= batch_size:
                    loaders.load(_Batch(lines, batch))
                    lines, batch, read = [], [], 0
        except (UnicodeDecodeError, csv.Error):
            loaders.finish()
            raise
        if batch:
            loaders.load(_Batch(lines, batch))
        loaders.finish()
    finally:
        loaders.close()
    # Records of a month that had no partition went to the default one: give them theirs (after a
    # read error the worker's next pass does it).
    with unit_of_work.unit():
        partitions.adopt_default(db.session.connection())
    tick()


def load_serial(records: Records, source: str, report: "ImportReport", batch_size: int,
                tick: Callable[[], None]) -> None:
    """SQLite (one writer at a time): batches of parsed records through `insert_records`."""
    def flush(parsed):
        with unit_of_work.unit():  # one per batch, also of only bad rows: it ends the batch's transaction
            good, refused = _known_customers(parsed)
            inserted, duplicates = insert_records(good, source)
        report.inserted += inserted
        report.duplicates += duplicates
        report.bad.extend(refused)
        tick()

    parsed, read = [], 0  # (line, record)
    for line, record in records.read(plain=False):
        read += 1
        if type(record) is dict:
            parsed.append((line, record))
        else:
            report.bad.append((line, str(record)))
        if read >= batch_size:
            flush(parsed)
            parsed, read = [], 0
    flush(parsed)  # the last batch, and a last progress report

