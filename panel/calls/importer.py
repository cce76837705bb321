"""Call records in: CSV files from the command line, batches of JSON from the API.

Both go through `parse_row` (one record's fields, with a clear message for each bad one),
`check_records` (parse a batch and refuse records of unknown customers) and `insert_records`
(INSERT … ON CONFLICT (source, call_id) DO NOTHING): a record sent twice is stored once, so a
file can be imported again after a failure and only what is missing goes in.

A CSV file is streamed and inserted in batches of BATCH records, each batch in its own
transaction; a bad row is reported with its line number and skipped, the rest goes in.
"""
import csv
import io
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from panel.calls.models import CallRecord
from panel.calls.rollup import _insert, database_now, hold_off_rollups
from panel.customers.models import Customer
from panel.extensions import db

BATCH = 5000
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
    unknown = unknown_customers(row["customer_id"] for _, row in parsed)
    good = []
    for key, row in parsed:
        if row["customer_id"] in unknown:
            errors.append((key, f"customer_id: there is no customer {row['customer_id']}"))
        else:
            good.append(row)
    errors.sort(key=lambda error: error[0])
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
    values = [{**row, "source": source, "received_at": received_at} for row in rows]
    if connection.dialect.name == "postgresql":
        inserted = _insert_postgresql(connection, values)
    else:
        table = CallRecord.__table__
        statement = (
            _insert(connection)(table)
            .on_conflict_do_nothing(index_elements=[table.c.source, table.c.call_id])
            .returning(table.c.id)
        )
        inserted = len(db.session.execute(statement, values).all())
    db.session.commit()
    return inserted, len(rows) - inserted


def _insert_postgresql(connection, values: list[dict]) -> int:
    """The same INSERT … ON CONFLICT DO NOTHING, with one array per column unnested into rows: a
    batch is one statement with a dozen parameters instead of a dozen per record (about 3× faster)."""
    table = CallRecord.__table__
    columns = [column for column in table.columns if column.name != "id"]
    arrays = ", ".join(f"CAST(:{c.name} AS {c.type.compile(dialect=connection.dialect)}[])" for c in columns)
    statement = sa.text(
        f"INSERT INTO {table.name} ({', '.join(c.name for c in columns)}) SELECT * FROM unnest({arrays}) "
        "ON CONFLICT (source, call_id) DO NOTHING RETURNING id"
    ).bindparams(*(sa.bindparam(c.name, type_=postgresql.ARRAY(c.type)) for c in columns))
    parameters = {c.name: [value[c.name] for value in values] for c in columns}
    return len(connection.execute(statement, parameters).all())


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

    def flush(batch):
        good, errors = check_records(batch)
        inserted, duplicates = insert_records(good, source)
        report.inserted += inserted
        report.duplicates += duplicates
        report.bad.extend(errors)
        db.session.commit()  # a batch of only bad rows still ends its transaction
        if progress is not None:
            progress(Progress(report.read, report.inserted, report.duplicates, len(report.bad),
                              counter.count if counter else None, time.monotonic() - started))

    try:
        reader = csv.DictReader(stream)
        header = reader.fieldnames
        if not header:
            raise CsvError("the file is empty: expected a header line " + ",".join(FIELDS))
        missing = [name for name in FIELDS if name not in header]
        if missing:
            raise CsvError(f"the header lacks {', '.join(missing)}; expected {','.join(FIELDS)}")
        batch = []
        for raw in reader:
            line = reader.line_num
            if None in raw:  # more fields than the header names
                report.bad.append((line, f"{len(header) + len(raw[None])} fields, the header has {len(header)}"))
                continue
            batch.append((line, raw))
            if len(batch) >= batch_size:
                flush(batch)
                batch = []
        if batch or progress is not None:
            flush(batch)
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
