"""Call records in: CSV files from the command line, batches of JSON from the API.

Both check each record like `parse_row` (one record's fields, with a clear message for each bad
one) and refuse records of unknown customers; a record sent twice is stored once (the unique
(source, call_id) and ON CONFLICT DO NOTHING), so a file can be imported again after a failure
and only what is missing goes in. The API's batches go through `check_records` and `insert_records`.

A CSV file is streamed in batches, each in its own transaction; a bad row is reported with its
line number and skipped, the rest goes in. On SQLite the batches go in one after the other
through `insert_records`. On PostgreSQL (about 50,000 records a second with 10 million stored,
tests/bench/bench_calls.py) WORKERS connections load batches of PARALLEL_BATCH side by side while
the file is read on: a plain row goes to COPY as it is (`_plain_row`), anything else is parsed
by `_fast_row`/`parse_row`; each batch is COPYed into a temporary table, its customers checked
once each, and moved with one INSERT … SELECT (see `_load_batch`).
"""
import csv
import io
import itertools
import operator
import os
import queue
import re
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa

from panel import unit_of_work
from panel.calls.models import CallRecord
from panel.calls.rollup import _insert, database_now, hold_off_rollups
from panel.customers.models import Customer
from panel.extensions import db
from panel.types import UTCDateTime

BATCH = 20_000  # records a transaction on SQLite
# PostgreSQL: records a transaction (a large batch visits each page of the (customer, start time)
# index once for many rows), and connections loading batches at once.
PARALLEL_BATCH = 100_000
WORKERS = 2
MAX_INT = 2**31 - 1
# The CSV header; the API takes the same names in each record.
FIELDS = ("customer_id", "call_id", "start_time", "destination", "answered", "duration",
          "billed_duration", "rate", "cost", "charge")
TRUE = {"1", "true", "t", "yes", "y"}
FALSE = {"0", "false", "f", "no", "n"}
WHOLE = re.compile(r"[+-]?\d+")


class RecordError(ValueError):
    """A record (or one of its fields) that cannot be stored; the message says why."""


class CsvError(ValueError):
    """The file cannot be read as a CSV of call records; `report` holds what went in before."""

    def __init__(self, message: str, report: "ImportReport | None" = None):
        super().__init__(message)
        self.report = report


@dataclass
class ImportReport:
    inserted: int = 0
    duplicates: int = 0
    bad: list[tuple[int, str]] = field(default_factory=list)  # (line number, message)
    seconds: float = 0.0

    @property
    def read(self) -> int:
        return self.inserted + self.duplicates + len(self.bad)


@dataclass
class Progress:
    read: int
    inserted: int
    duplicates: int
    bad: int
    bytes_read: int | None  # None when reading from a text stream
    seconds: float


# --- one record -------------------------------------------------------------------------------

def _text(value, limit: int, required: bool = True) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise RecordError("must be text")
    text = str(value).strip()
    if required and not text:
        raise RecordError("is empty")
    if len(text) > limit:
        raise RecordError(f"is longer than {limit} characters")
    return text


def _whole(value, positive: bool = False) -> int:
    number = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, (Decimal, float)):
        try:
            if value == int(value):
                number = int(value)
        except (ValueError, OverflowError, ArithmeticError):  # NaN, infinity
            pass
    elif isinstance(value, str) and WHOLE.fullmatch(value.strip()):
        number = int(value.strip())
    if number is None:
        shown = f"'{value}'" if isinstance(value, str) else repr(value)
        raise RecordError(f"must be a whole number, not {shown}")
    if number < 0:
        raise RecordError(f"must not be negative (got {number})")
    if positive and number == 0:
        raise RecordError("must be a positive whole number")
    if number > MAX_INT:
        raise RecordError(f"is too large ({number})")
    return number


def parse_time(value) -> datetime:
    """An ISO 8601 date-time as an aware UTC datetime; without an offset it is taken as UTC."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise RecordError(f"'{value}' is not an ISO 8601 date-time (like 2026-01-31T14:05:00Z)") from None
    else:
        raise RecordError(f"must be an ISO 8601 date-time text, not {value!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise RecordError(f"'{value}' is out of range") from None


def _answered(value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE:
            return True
        if word in FALSE:
            return False
    raise RecordError(f"must be true or false (or 1/0, yes/no), not {value!r}")


def _amount(value, places: int) -> Decimal:
    """A non-negative amount with at most `places` decimals that fits NUMERIC(18, places)."""
    if isinstance(value, bool):
        raise RecordError(f"must be a number, not {value!r}")
    if isinstance(value, float):
        value = repr(value)  # the shortest text that is this float: what the sender wrote
    if isinstance(value, str):
        text = value.strip()
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise RecordError(f"'{value}' is not a number") from None
    elif isinstance(value, (int, Decimal)):
        number = Decimal(value)
    else:
        raise RecordError(f"must be a number, not {value!r}")
    if not number.is_finite():
        raise RecordError(f"'{value}' is not a number")
    if number < 0:
        raise RecordError(f"must not be negative (got {value})")
    if number >= Decimal(10) ** (18 - places):
        raise RecordError(f"is too large ({value})")
    step = Decimal(1).scaleb(-places)
    exact = number.quantize(step)
    if exact != number:
        raise RecordError(f"has more than {places} decimal places ({value})")
    return exact


def parse_row(raw: dict) -> dict:
    """One record's fields (CSV text or JSON values) → the CallRecord columns, or ValueError naming every bad field."""
    if not isinstance(raw, dict):
        raise RecordError("a record must be an object with the fields " + ", ".join(FIELDS))
    parsers = (
        ("customer_id", "customer_id", lambda v: _whole(v, positive=True)),
        ("call_id", "call_id", lambda v: _text(v, 128)),
        ("start_time", "start_time", parse_time),
        ("destination", "destination", lambda v: _text(v, 64, required=False)),
        ("answered", "answered", _answered),
        ("duration", "duration_seconds", _whole),
        ("billed_duration", "billed_seconds", _whole),
        ("rate", "rate", lambda v: _amount(v, 6)),
        ("cost", "cost", lambda v: _amount(v, 4)),
        ("charge", "charge", lambda v: _amount(v, 4)),
    )
    row, errors = {}, []
    for name, column, parse in parsers:
        value = raw.get(name)
        if value is None or (isinstance(value, str) and not value.strip() and name != "destination"):
            if name == "destination":
                row[column] = ""
                continue
            errors.append(f"{name}: missing")
            continue
        try:
            row[column] = parse(value)
        except ValueError as error:
            errors.append(f"{name}: {error}")
    if errors:
        raise RecordError("; ".join(errors))
    return row


# --- the CSV fast path --------------------------------------------------------------------------

_ANSWERED = {**{word: True for word in TRUE}, **{word: False for word in FALSE}}
_fromisoformat = datetime.fromisoformat


def _fast_amount(text: str, places: int) -> Decimal | None:
    """Plain digits with at most `places` decimals that fit NUMERIC(18, places), as `_amount`
    gives them (exactly `places` decimals); None for anything else."""
    whole, _, fraction = text.partition(".")
    if not whole.isdecimal() or len(whole) > 18 - places or len(fraction) > places:
        return None
    if fraction and not fraction.isdecimal():
        return None
    return Decimal(f"{whole}.{fraction}{'0' * (places - len(fraction))}")


def _fast_row(customer_id, call_id, start_time, destination, answered, duration, billed, rate, cost, charge):
    """One CSV row's texts (in FIELDS order) → what `parse_row` gives for them, when they are plain
    and valid; None for anything else, which `parse_row` then takes (and says what is wrong)."""
    if not (customer_id.isdecimal() and duration.isdecimal() and billed.isdecimal()):
        return None
    customer, seconds, billed_seconds = int(customer_id), int(duration), int(billed)
    if not (0 < customer <= MAX_INT and seconds <= MAX_INT and billed_seconds <= MAX_INT):
        return None
    call_id, destination = call_id.strip(), destination.strip()
    if not call_id or len(call_id) > 128 or len(destination) > 64:
        return None
    answered = _ANSWERED.get(answered)
    if answered is None:
        return None
    try:
        moment = _fromisoformat(start_time)
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    rate, cost, charge = _fast_amount(rate, 6), _fast_amount(cost, 4), _fast_amount(charge, 4)
    if rate is None or cost is None or charge is None:
        return None
    return {"customer_id": customer, "call_id": call_id, "start_time": moment, "destination": destination,
            "answered": answered, "duration_seconds": seconds, "billed_seconds": billed_seconds,
            "rate": rate, "cost": cost, "charge": charge}


# --- batches ----------------------------------------------------------------------------------

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


# The parsed columns COPYed into the temporary table, in its order; source and received_at are
# the same for a whole batch and go in as parameters of the INSERT.
_COPIED = ("customer_id", "call_id", "start_time", "destination", "answered", "duration_seconds",
           "billed_seconds", "rate", "cost", "charge")
_STAGE = ("CREATE TEMPORARY TABLE call_record_in (customer_id integer, call_id text, start_time timestamptz, "
          "destination text, answered boolean, duration_seconds integer, billed_seconds integer, "
          "rate numeric, cost numeric, charge numeric) ON COMMIT DROP")
_MOVE = sa.text(
    "INSERT INTO call_record (customer_id, source, call_id, start_time, destination, answered, duration_seconds, "
    "billed_seconds, rate, cost, charge, received_at) "
    "SELECT customer_id, :source, call_id, start_time AT TIME ZONE 'UTC', destination, answered, duration_seconds, "
    "billed_seconds, rate, cost, charge, :received_at FROM call_record_in "
    "ON CONFLICT (source, call_id) DO NOTHING"
).bindparams(sa.bindparam("source", type_=sa.String()), sa.bindparam("received_at", type_=UTCDateTime()))


def _insert_postgresql(connection, rows: list[dict], source: str, received_at: datetime) -> int:
    """COPY the batch into a temporary table (dropped at commit), then one INSERT … SELECT … ON
    CONFLICT DO NOTHING: several times faster than binding every value. Returns the rows inserted.
    Start times are aware UTC datetimes: COPYed as timestamptz, stored as naive UTC."""
    pick = operator.itemgetter(*_COPIED)
    driver = connection.connection.driver_connection  # psycopg's connection, in the session's transaction
    with driver.cursor() as cursor:
        cursor.execute(_STAGE)
        with cursor.copy("COPY call_record_in FROM STDIN") as copy:
            write = copy.write_row
            for row in rows:
                write(pick(row))
    return connection.execute(_MOVE, {"source": source, "received_at": received_at}).rowcount


# --- the plain-row path (PostgreSQL) ------------------------------------------------------------

# A row as a switch writes it (the header exactly FIELDS, ASCII, nothing quoted) that PostgreSQL
# reads as `parse_row` would: the row goes to COPY as it is, so Python builds no values for it.
# call_id and destination: printable ASCII without quote or comma, no space at either end (so
# nothing to strip); offsets up to ±15:59 and at most 6 decimals of a second, as PostgreSQL takes
# them; amounts as `_fast_amount` takes them. Anything else goes through `_fast_row`/`parse_row`.
_TEXT = r"[!#-+\--~](?:[ !#-+\--~]{0,%d}[!#-+\--~])?"
_PLAIN = re.compile(
    r"([0-9]{1,10}),(?:" + _TEXT % 126 + r"),"
    r"([0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:Z|[+-](?:0[0-9]|1[0-5]):[0-9]{2})?),"
    r"(?:" + _TEXT % 62 + r")?,(?:[01tfyn]|true|false|yes|no),([0-9]{1,10}),([0-9]{1,10}),"
    r"[0-9]{1,12}(?:\.[0-9]{0,6})?,[0-9]{1,14}(?:\.[0-9]{0,4})?,[0-9]{1,14}(?:\.[0-9]{0,4})?"
).fullmatch


def _plain_row(text: str) -> bool:
    """Whether a line (without its line break) is a plain, valid row that COPY can take as it is."""
    match = _PLAIN(text)
    if match is None:
        return False
    customer, start_time, duration, billed = match.groups()
    if not (0 < int(customer) <= MAX_INT and int(duration) <= MAX_INT and int(billed) <= MAX_INT):
        return False
    try:
        moment = _fromisoformat(start_time)  # a real date and time, in range once in UTC
        if moment.tzinfo is not None:
            moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return False
    return True


def _csv_line(line: int, row: dict) -> str:
    """A parsed record as a line of the staging COPY (CSV: line number, then the _COPIED columns)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow((
        line, row["customer_id"], row["call_id"], row["start_time"].isoformat(), row["destination"],
        "t" if row["answered"] else "f", row["duration_seconds"], row["billed_seconds"],
        f"{row['rate']:f}", f"{row['cost']:f}", f"{row['charge']:f}"))
    return out.getvalue()


# --- loading batches through several connections (PostgreSQL) ----------------------------------

_STAGE_CSV = ("CREATE TEMPORARY TABLE call_record_csv (line integer, customer_id integer, call_id text, "
              "start_time timestamptz, destination text, answered boolean, duration_seconds integer, "
              "billed_seconds integer, rate numeric, cost numeric, charge numeric) ON COMMIT DROP")
# An empty destination is '' (not NULL); naive start times are UTC (the batch sets TimeZone).
_COPY_CSV = "COPY call_record_csv FROM STDIN (FORMAT csv, FORCE_NOT_NULL (destination))"
_REFUSE = sa.text("DELETE FROM call_record_csv s WHERE NOT EXISTS (SELECT FROM customer c WHERE c.id = s.customer_id) "
                  "RETURNING line, customer_id")
_INSERT_CSV = (
    "INSERT INTO call_record (customer_id, source, call_id, start_time, destination, answered, duration_seconds, "
    "billed_seconds, rate, cost, charge, received_at) "
    "SELECT customer_id, :source, call_id, start_time AT TIME ZONE 'UTC', destination, answered, duration_seconds, "
    "billed_seconds, rate, cost, charge, :received_at FROM call_record_csv s "
)
_PARAMETERS = (sa.bindparam("source", type_=sa.String()), sa.bindparam("received_at", type_=UTCDateTime()))
# A batch goes in with a plain INSERT first: a record already stored (or given twice in the batch)
# makes it fail on the unique index, and the batch then goes in with ON CONFLICT DO NOTHING, which
# costs several µs a row more. Rows go in by (customer, start time), the order of the index that
# new rows land all over: each of its pages is then visited once a batch, not once a row.
_MOVE_NEW = sa.text(_INSERT_CSV + "ORDER BY customer_id, start_time").bindparams(*_PARAMETERS)
_MOVE_ANY = sa.text(
    _INSERT_CSV + "ORDER BY customer_id, start_time ON CONFLICT (source, call_id) DO NOTHING"
).bindparams(*_PARAMETERS)
# A record stored meanwhile by another transaction; two batches sharing call ids waited for each other.
RETRY_WITH_ON_CONFLICT = {"23505", "40P01"}  # unique_violation, deadlock_detected


@dataclass
class _Batch:
    text: str  # CSV lines for _COPY_CSV
    rows: int


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
# key's, and the role may do that (a superuser); otherwise the trigger checks every row.
_CHECKS_ONLY_THE_CUSTOMER = sa.text("""
    WITH fk AS (
      SELECT oid FROM pg_constraint
      WHERE conrelid = 'call_record'::regclass AND contype = 'f' AND confrelid = 'customer'::regclass
        AND conkey = ARRAY[(SELECT attnum FROM pg_attribute WHERE attrelid = 'call_record'::regclass AND attname = 'customer_id')]
        AND confkey = ARRAY[(SELECT attnum FROM pg_attribute WHERE attrelid = 'customer'::regclass AND attname = 'id')])
    SELECT current_setting('is_superuser') = 'on' AND (SELECT count(*) FROM fk) = 1
      AND NOT EXISTS (SELECT FROM pg_trigger WHERE tgrelid = 'call_record'::regclass AND tgconstraint NOT IN (SELECT oid FROM fk))
      AND NOT EXISTS (SELECT FROM pg_rewrite WHERE ev_class = 'call_record'::regclass)""")
_LOCK_CUSTOMERS = sa.text("SELECT FROM customer WHERE id IN (SELECT customer_id FROM call_record_csv) FOR KEY SHARE")


def checks_customers_per_batch(connection) -> bool:
    """Whether batches may check their customers once each instead of the trigger checking every row."""
    return bool(connection.execute(_CHECKS_ONLY_THE_CUSTOMER).scalar())


def _load_batch(connection, batch: _Batch, source: str, per_batch: bool) -> _Loaded:
    """One batch in one transaction: COPY it into a temporary table, refuse the records of unknown
    customers, insert the rest (`per_batch`: see checks_customers_per_batch)."""
    with connection.begin():
        hold_off_rollups(connection)
        received_at = database_now(connection)  # after the lock: a roll-up running now sees these next time
        connection.execute(sa.text("SET LOCAL TimeZone = 'UTC'"))
        with connection.connection.driver_connection.cursor() as cursor:
            cursor.execute(_STAGE_CSV)
            with cursor.copy(_COPY_CSV) as copy:
                copy.write(batch.text)
        if per_batch:
            connection.execute(_LOCK_CUSTOMERS)  # before refusing: no customer can go in between
        refused = sorted(connection.execute(_REFUSE).all())
        if per_batch:
            connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
        values = {"source": source, "received_at": received_at}
        try:
            with connection.begin_nested():
                inserted = connection.execute(_MOVE_NEW, values).rowcount
        except sa.exc.DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) not in RETRY_WITH_ON_CONFLICT:
                raise
            inserted = connection.execute(_MOVE_ANY, values).rowcount
    messages = [(line, f"customer_id: there is no customer {customer}") for line, customer in refused]
    return _Loaded(inserted, batch.rows - inserted - len(refused), messages)


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


# --- CSV files --------------------------------------------------------------------------------

class _CountingReader(io.RawIOBase):
    """Counts the bytes read from a binary file, for a progress bar."""

    def __init__(self, raw):
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n


def _open(path_or_file):
    """→ (text stream, byte counter or None, file to close or None)."""
    if isinstance(path_or_file, (str, os.PathLike)):
        binary = open(path_or_file, "rb")  # noqa: SIM115 (closed by import_csv)
        counter = _CountingReader(binary)
        return io.TextIOWrapper(io.BufferedReader(counter), encoding="utf-8-sig", newline=""), counter, binary
    if isinstance(path_or_file, io.TextIOBase):
        return path_or_file, None, None
    counter = _CountingReader(path_or_file)
    return io.TextIOWrapper(io.BufferedReader(counter), encoding="utf-8-sig", newline=""), counter, None


def _read_record(text: str, lines) -> tuple[list[str], int]:
    """The CSV record starting with line `text` (a quoted field may go on over the next lines)
    → (its values, how many more lines it took)."""
    reader = csv.reader(itertools.chain((text,), lines))
    return next(reader, []), reader.line_num - 1


class _Records:
    """The records of a CSV file after its header, as (line, record): the line's text for COPY when
    it is a plain row (`plain` asks for that), the parsed dict, or a RecordError for a bad row.
    A line number is the record's last line, counting from 1 for the header."""

    def __init__(self, stream):
        self.lines = iter(stream)
        self.line = 1  # the last line read: a read error is "after" it
        first = next(self.lines, None)
        header, more = _read_record(first, self.lines) if first is not None else ([], 0)
        self.line += more
        if not header:
            raise CsvError("the file is empty: expected a header line " + ",".join(FIELDS))
        missing = [name for name in FIELDS if name not in header]
        if missing:
            raise CsvError(f"the header lacks {', '.join(missing)}; expected {','.join(FIELDS)}")
        self.header = header

    def read(self, plain: bool):
        """(line, record) for each record; plain rows as their text only when `plain`."""
        header, width, lines = self.header, len(self.header), self.lines
        position = {name: i for i, name in enumerate(header)}  # a name given twice: the last one, as DictReader
        pick = operator.itemgetter(*(position[name] for name in FIELDS))
        plain = plain and tuple(header) == FIELDS
        for text in lines:
            self.line += 1
            if plain:
                body = text.rstrip("\r\n")
                if _plain_row(body):
                    yield self.line, f"{self.line},{body}\n"
                    continue
            values, more = _read_record(text, lines)
            self.line += more
            if not values:  # a blank line, skipped as DictReader does
                continue
            if len(values) > width:
                yield self.line, RecordError(f"{len(values)} fields, the header has {width}")
                continue
            row = _fast_row(*pick(values)) if len(values) == width else None
            if row is None:
                raw = dict(zip(header, values))
                for name in header[len(values):]:  # too few fields: the rest are missing
                    raw[name] = None
                try:
                    row = parse_row(raw)
                except RecordError as error:
                    row = error
            yield self.line, row


def import_csv(path_or_file, source: str, progress: Callable[[Progress], None] | None = None,
               batch_size: int | None = None, workers: int = WORKERS) -> ImportReport:
    """Import a CSV of call records (header: FIELDS; start_time ISO 8601, naive means UTC).

    On PostgreSQL, batches are loaded through `workers` connections at once while the file is read.
    Raises OSError if the file cannot be opened, CsvError if it is not a CSV of call records
    (or stops being readable half-way: the batches before are in, and the error holds the report).
    """
    source = check_source(source)
    started = time.monotonic()
    report = ImportReport()
    stream, counter, opened = _open(path_or_file)

    def tick():
        if progress is not None:
            progress(Progress(report.read, report.inserted, report.duplicates, len(report.bad),
                              counter.count if counter else None, time.monotonic() - started))

    records = None
    try:
        records = _Records(stream)
        if db.engine.dialect.name == "postgresql":
            _load_parallel(records, source, report, batch_size or PARALLEL_BATCH, workers, tick)
        else:
            _load_serial(records, source, report, batch_size or BATCH, tick)
    except (UnicodeDecodeError, csv.Error) as error:
        report.seconds = time.monotonic() - started
        line = records.line if records is not None else 1
        raise CsvError(f"cannot read the file after line {line}: {error}", report) from None
    finally:
        if opened is not None:
            opened.close()
    report.bad.sort(key=lambda bad: bad[0])
    report.seconds = time.monotonic() - started
    return report


def _load_parallel(records: _Records, source: str, report: ImportReport, batch_size: int, workers: int,
                   tick: Callable[[], None]) -> None:
    """PostgreSQL: plain rows go to COPY as they are, parsed ones as CSV lines; batches of
    `batch_size` records load side by side. On a read error the batches given are finished first,
    so the report counts what went in."""
    def taken(loaded: _Loaded):
        report.inserted += loaded.inserted
        report.duplicates += loaded.duplicates
        report.bad.extend(loaded.refused)
        tick()

    loaders = _Loaders(source, workers, taken)
    try:
        lines, read = [], 0
        try:
            for line, record in records.read(plain=True):
                read += 1
                if type(record) is str:
                    lines.append(record)
                elif type(record) is dict:
                    lines.append(_csv_line(line, record))
                else:
                    report.bad.append((line, str(record)))
                if read >= batch_size:
                    loaders.load(_Batch("".join(lines), len(lines)))
                    lines, read = [], 0
        except (UnicodeDecodeError, csv.Error):
            loaders.finish()
            raise
        if lines:
            loaders.load(_Batch("".join(lines), len(lines)))
        loaders.finish()
        tick()
    finally:
        loaders.close()


def _load_serial(records: _Records, source: str, report: ImportReport, batch_size: int,
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


def accept_batch(records, source: str) -> dict:
    """The API's batch: store the good records, list the bad ones by index. Raises ValueError for a bad source."""
    source = check_source(source)
    good, errors = check_records(enumerate(records))
    inserted, duplicates = insert_records(good, source)
    return {"inserted": inserted, "duplicates": duplicates,
            "errors": [{"index": index, "message": message} for index, message in errors]}
