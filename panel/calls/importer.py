"""Call records in: CSV files from the command line, batches of JSON from the API.

Both go through `parse_row` (one record's fields, with a clear message for each bad one),
`check_records` (parse a batch and refuse records of unknown customers) and `insert_records`
(INSERT … ON CONFLICT (source, call_id) DO NOTHING): a record sent twice is stored once, so a
file can be imported again after a failure and only what is missing goes in.

A CSV file is streamed and inserted in batches of BATCH records, each batch in its own
transaction; a bad row is reported with its line number and skipped, the rest goes in.

Speed (about 50,000+ records a second on PostgreSQL): a CSV row of plain, valid text takes a
fast path (`_fast_row`) that gives exactly what `parse_row` would, and anything else goes
through `parse_row` for its messages; on PostgreSQL a batch is COPYed into a temporary table
and moved with one INSERT … SELECT … ON CONFLICT DO NOTHING.
"""
import csv
import io
import operator
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa

from panel.calls.models import CallRecord
from panel.calls.rollup import _insert, database_now, hold_off_rollups
from panel.customers.models import Customer
from panel.extensions import db
from panel.types import UTCDateTime

BATCH = 20_000
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
    skipped. Commits. Returns (inserted, duplicates)."""
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
    db.session.commit()
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


def import_csv(path_or_file, source: str, progress: Callable[[Progress], None] | None = None,
               batch_size: int = BATCH) -> ImportReport:
    """Import a CSV of call records (header: FIELDS; start_time ISO 8601, naive means UTC).

    Raises OSError if the file cannot be opened, CsvError if it is not a CSV of call records
    (or stops being readable half-way: the batches before are in, and the error holds the report).
    """
    source = check_source(source)
    started = time.monotonic()
    report = ImportReport()
    stream, counter, opened = _open(path_or_file)
    line = 1

    def flush(parsed, errors):
        good, refused = _known_customers(parsed)
        inserted, duplicates = insert_records(good, source)
        report.inserted += inserted
        report.duplicates += duplicates
        report.bad.extend(errors)
        report.bad.extend(refused)
        db.session.commit()  # a batch of only bad rows still ends its transaction
        if progress is not None:
            progress(Progress(report.read, report.inserted, report.duplicates, len(report.bad),
                              counter.count if counter else None, time.monotonic() - started))

    try:
        reader = csv.reader(stream)
        header = next(reader, None)
        if not header:
            raise CsvError("the file is empty: expected a header line " + ",".join(FIELDS))
        missing = [name for name in FIELDS if name not in header]
        if missing:
            raise CsvError(f"the header lacks {', '.join(missing)}; expected {','.join(FIELDS)}")
        width = len(header)
        position = {name: i for i, name in enumerate(header)}  # a name given twice: the last one, as DictReader
        pick = operator.itemgetter(*(position[name] for name in FIELDS))
        parsed, errors = [], []  # (line, record), (line, message)
        for values in reader:
            if not values:  # a blank line, skipped as DictReader does
                continue
            line = reader.line_num
            if len(values) > width:
                report.bad.append((line, f"{len(values)} fields, the header has {width}"))
                continue
            row = _fast_row(*pick(values)) if len(values) == width else None
            if row is None:
                raw = dict(zip(header, values))
                for name in header[len(values):]:  # too few fields: the rest are missing
                    raw[name] = None
                try:
                    row = parse_row(raw)
                except ValueError as error:
                    errors.append((line, str(error)))
            if row is not None:
                parsed.append((line, row))
            if len(parsed) + len(errors) >= batch_size:
                flush(parsed, errors)
                parsed, errors = [], []
        if parsed or errors or progress is not None:
            flush(parsed, errors)
    except (UnicodeDecodeError, csv.Error) as error:
        db.session.rollback()
        report.seconds = time.monotonic() - started
        raise CsvError(f"cannot read the file after line {line}: {error}", report) from None
    finally:
        if opened is not None:
            opened.close()
    report.bad.sort(key=lambda bad: bad[0])
    report.seconds = time.monotonic() - started
    return report


def accept_batch(records, source: str) -> dict:
    """The API's batch: store the good records, list the bad ones by index. Raises ValueError for a bad source."""
    source = check_source(source)
    good, errors = check_records(enumerate(records))
    inserted, duplicates = insert_records(good, source)
    db.session.commit()
    return {"inserted": inserted, "duplicates": duplicates,
            "errors": [{"index": index, "message": message} for index, message in errors]}
