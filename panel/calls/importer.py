"""Call records in: CSV files from the command line, batches of JSON from the API. The entry point.

Both check each record by the one rule set of `parsing` (`parse_row`: one record's fields, with a
clear message for each bad one) and refuse records of unknown customers; a record sent twice is
stored once (the unique (source, call_id)), so a file can be imported again after a failure and
only what is missing goes in. `loading` stores them: the API's batches through `check_records` and
`insert_records`; a CSV file streamed in batches, each in its own transaction, a bad row reported
with its line number and skipped. On PostgreSQL a plain row goes to COPY as it is
(`parsing.plain_row`), anything else is parsed (`parsing.fast_row`, else `parse_row`).
"""
import csv
import io
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from panel.calls.loading import (  # noqa: F401 (the names callers import from here)
    BATCH,
    PARALLEL_BATCH,
    WORKERS,
    check_records,
    check_source,
    insert_records,
    load_parallel,
    load_serial,
    unknown_customers,
)
from panel.calls.parsing import (  # noqa: F401 (the names callers import from here)
    FIELDS,
    MAX_INT,
    CsvError,
    RecordError,
    Records,
    parse_row,
    parse_time,
)
from panel.extensions import db


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
        records = Records(stream)
        if db.engine.dialect.name == "postgresql":
            load_parallel(records, source, report, batch_size or PARALLEL_BATCH, workers, tick)
        else:
            load_serial(records, source, report, batch_size or BATCH, tick)
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


def accept_batch(records, source: str) -> dict:
    """The API's batch: store the good records, list the bad ones by index. Raises ValueError for a bad source."""
    source = check_source(source)
    good, errors = check_records(enumerate(records))
    inserted, duplicates = insert_records(good, source)
    return {"inserted": inserted, "duplicates": duplicates,
            "errors": [{"index": index, "message": message} for index, message in errors]}
