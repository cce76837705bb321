"""Reading call records: the one rule set a record's fields must pass, and CSV files read row by row.

`RULES` says once what each field must hold. Each kind of rule answers in three forms, side by
side so they cannot drift apart: `parse` takes any value (CSV text or JSON) and says what is
wrong (`parse_row`: the API, and every CSV row the faster forms do not take); `fast` converts
plain, valid CSV text with little work and raises NotPlain for anything else (`fast_row`); `plain`
is a regular expression for a row PostgreSQL's COPY reads as `parse` would, so the row goes in as
it is and Python builds no values for it (`plain_row`). tests/calls/test_import.py checks that
the three agree.
"""
import csv
import itertools
import operator
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from panel import cells

MAX_INT = 2**31 - 1
TRUE = {"1", "true", "t", "yes", "y"}
FALSE = {"0", "false", "f", "no", "n"}
WHOLE = re.compile(r"[+-]?\d+")


class RecordError(ValueError):
    """A record (or one of its fields) that cannot be stored; the message says why."""


class CsvError(ValueError):
    """The file cannot be read as a CSV of call records; `report` holds what went in before."""

    def __init__(self, message: str, report=None):
        super().__init__(message)
        self.report = report


class NotPlain(ValueError):
    """A CSV text the fast form does not take; the full parser says whether and why it is wrong."""


_fromisoformat = datetime.fromisoformat


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


# --- the kinds of rule, each in its three forms ----------------------------------------------------
# `fast` is made per rule as a closure over its limits: it runs for every row of a file on SQLite.

# Printable ASCII without quote or comma, no space at either end (so nothing to strip), not beginning with an
# apostrophe (a spreadsheet-safe cell, panel/cells.py, which parse() unescapes).
_TEXT = r"[!#-&(-+\--~](?:[ !#-+\--~]{0,%d}[!#-+\--~])?"


class Whole:
    """A whole number from 0 (from 1 if `positive`) to MAX_INT."""

    required = True

    def __init__(self, positive: bool = False):
        self.positive = positive
        # At most 9 digits (below MAX_INT, so nothing left to check); longer ones take `fast`.
        self.plain = (r"(?!0+(?:,|$))" if positive else "") + "[0-9]{1,9}"
        low = 1 if positive else 0

        def fast(text: str) -> int:
            if text.isascii() and text.isdecimal():
                number = int(text)
                if low <= number <= MAX_INT:
                    return number
            raise NotPlain

        self.fast = fast

    def parse(self, value) -> int:
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
        if self.positive and number == 0:
            raise RecordError("must be a positive whole number")
        if number > MAX_INT:
            raise RecordError(f"is too large ({number})")
        return number


class Text:
    """Text of at most `limit` characters once stripped; empty only when not `required`."""

    def __init__(self, limit: int, required: bool = True):
        self.limit, self.required = limit, required
        self.plain = f"(?:{_TEXT % (limit - 2)})" + ("" if required else "?")

        def fast(text: str) -> str:
            text = text.strip()
            if (text or not required) and len(text) <= limit and not text.startswith("'"):
                return text
            raise NotPlain

        self.fast = fast

    def parse(self, value) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise RecordError("must be text")
        text = str(value).strip()
        if text.startswith("'"):
            text = cells.unescape(text)  # an exported cell (panel/cells.py): what it held
        if self.required and not text:
            raise RecordError("is empty")
        if len(text) > self.limit:
            raise RecordError(f"is longer than {self.limit} characters")
        return text


class Time:
    """An ISO 8601 date-time (naive means UTC), in range once in UTC."""

    required = True
    # UTC only (no offset, Z or a zero one: call_record.start_time is a timestamp without time zone, which
    # ignores an offset) and at most 6 decimals of a second, as PostgreSQL takes them; other offsets go
    # through `fast`. The one capturing kind of `plain`: `plain_row` checks that it is a real date and time.
    plain = (r"([0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?"
             r"(?:Z|[+-]00:00)?)")

    parse = staticmethod(parse_time)

    @staticmethod
    def fast(text: str) -> datetime:
        moment = _fromisoformat(text)  # ValueError, OverflowError: not plain
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class Flag:
    """True or false: a word of TRUE or FALSE (any case and spacing for `parse`), a JSON boolean, or 1/0."""

    required = True
    words = {**{word: True for word in TRUE}, **{word: False for word in FALSE}}
    plain = ("(?:[" + "".join(sorted(word for word in words if len(word) == 1)) + "]|"
             + "|".join(sorted((word for word in words if len(word) > 1), key=len)) + ")")

    @staticmethod
    def parse(value) -> bool:
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

    @staticmethod
    def fast(text: str, _words=words) -> bool:
        answer = _words.get(text)
        if answer is None:
            raise NotPlain
        return answer


class Amount:
    """A non-negative amount with at most `places` decimals that fits NUMERIC(18, places)."""

    required = True

    def __init__(self, places: int):
        self.places = places
        self.step = Decimal(1).scaleb(-places)
        digits = 18 - places
        self.plain = f"[0-9]{{1,{digits}}}(?:\\.[0-9]{{0,{places}}})?"

        def fast(text: str) -> Decimal:
            """Plain digits, as `parse` gives them (exactly `places` decimals)."""
            whole, _, fraction = text.partition(".")
            if (whole.isascii() and whole.isdecimal() and len(whole) <= digits and len(fraction) <= places
                    and (not fraction or (fraction.isascii() and fraction.isdecimal()))):
                return Decimal(f"{whole}.{fraction}{'0' * (places - len(fraction))}")
            raise NotPlain

        self.fast = fast

    def parse(self, value) -> Decimal:
        if isinstance(value, bool):
            raise RecordError(f"must be a number, not {value!r}")
        if isinstance(value, float):
            value = repr(value)  # the shortest text that is this float: what the sender wrote
        if isinstance(value, str):
            text = value.strip()
            if not text.isascii() or "_" in text:  # Decimal would read "١٢" or "1_000": never guess what was meant
                raise RecordError(f"'{value}' is not a number")
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
        if number >= Decimal(10) ** (18 - self.places):
            raise RecordError(f"is too large ({value})")
        exact = number.quantize(self.step)
        if exact != number:
            raise RecordError(f"has more than {self.places} decimal places ({value})")
        return exact


# --- the rule set -----------------------------------------------------------------------------------

# (field as sent, CallRecord column, rule), in the order of the CSV header.
RULES = (
    ("customer_id", "customer_id", Whole(positive=True)),
    ("call_id", "call_id", Text(128)),
    ("start_time", "start_time", Time()),
    ("destination", "destination", Text(64, required=False)),
    ("answered", "answered", Flag()),
    ("duration", "duration_seconds", Whole()),
    ("billed_duration", "billed_seconds", Whole()),
    ("rate", "rate", Amount(6)),
    ("cost", "cost", Amount(4)),
    ("charge", "charge", Amount(4)),
)
# The CSV header; the API takes the same names in each record.
FIELDS = tuple(name for name, _, _ in RULES)
COLUMNS = tuple(column for _, column, _ in RULES)


def parse_row(raw: dict) -> dict:
    """One record's fields (CSV text or JSON values) → the CallRecord columns, or ValueError naming every bad field."""
    if not isinstance(raw, dict):
        raise RecordError("a record must be an object with the fields " + ", ".join(FIELDS))
    row, errors = {}, []
    for name, column, rule in RULES:
        value = raw.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if rule.required:
                errors.append(f"{name}: missing")
            else:
                row[column] = ""
            continue
        try:
            row[column] = rule.parse(value)
        except ValueError as error:
            errors.append(f"{name}: {error}")
    if errors:
        raise RecordError("; ".join(errors))
    return row


_FAST = tuple(rule.fast for _, _, rule in RULES)
_call = operator.call


def fast_row(*texts: str) -> dict | None:
    """One CSV row's texts (in FIELDS order) → what `parse_row` gives for them, when they are plain
    and valid; None for anything else, which `parse_row` then takes (and says what is wrong)."""
    try:
        return dict(zip(COLUMNS, map(_call, _FAST, texts)))
    except (ValueError, OverflowError):  # NotPlain, or a date-time fromisoformat refuses
        return None


# A row as a switch writes it (the header exactly FIELDS, ASCII, nothing quoted, times in UTC) that
# PostgreSQL's COPY into call_record reads as `parse_row` would. Only date-times are captured: a regular expression cannot tell a
# real date from 2026-02-30.
_PLAIN = re.compile(",".join(rule.plain for _, _, rule in RULES)).fullmatch


def plain_row(text: str) -> bool:
    """Whether a line (without its line break) is a plain, valid row that COPY can take as it is."""
    match = _PLAIN(text)
    if match is None:
        return False
    try:
        for start_time in match.groups():
            _fromisoformat(start_time)  # a real date and time (in UTC: its offset, if any, is zero)
    except ValueError:
        return False
    return True


# --- CSV files --------------------------------------------------------------------------------------

def _read_record(text: str, lines) -> tuple[list[str], int]:
    """The CSV record starting with line `text` (a quoted field may go on over the next lines)
    → (its values, how many more lines it took)."""
    reader = csv.reader(itertools.chain((text,), lines))
    return next(reader, []), reader.line_num - 1


class Records:
    """The records of a CSV file after its header, as (line, record): the line's text (no line break)
    for COPY when it is a plain row (`plain` asks for that), the parsed dict, or a RecordError for a bad row.
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
                if plain_row(body):
                    yield self.line, body
                    continue
            values, more = _read_record(text, lines)
            self.line += more
            if not values:  # a blank line, skipped as DictReader does
                continue
            if len(values) > width:
                yield self.line, RecordError(f"{len(values)} fields, the header has {width}")
                continue
            row = fast_row(*pick(values)) if len(values) == width else None
            if row is None:
                raw = dict(zip(header, values))
                for name in header[len(values):]:  # too few fields: the rest are missing
                    raw[name] = None
                try:
                    row = parse_row(raw)
                except RecordError as error:
                    row = error
            yield self.line, row
