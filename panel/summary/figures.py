"""The Summary grid's figures: one row per hour, day, week or month of a customer, read only from call_hour.

Days, weeks and months are grouped by the database (one indexed query per page of rows, on the
(customer_id, hour) key), so a year of hours never travels to Python. Money stays Decimal: exact
NUMERIC sums on PostgreSQL; on SQLite (which stores NUMERIC as floating point) each sum is rounded
back to the 4 places money is kept in, as the roll-up itself does.
"""
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from panel.calls.models import HourlySummary
from panel.extensions import db
from panel.periods import (
    FRAME_NAMES,
    FRAMES,
    label,
    parse_start,
    period_end,
    period_start,
    previous_start,
    recent_periods,
    start_key,
)
from panel.types import Money, UTCDateTime

# Rows on one page of each tab: a day of hours, a month of days, a quarter of weeks, a year of months.
PAGE_SIZES = {"live": 24, "daily": 31, "weekly": 13, "monthly": 12}
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)  # no page or export reaches before this
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
MAX_EXPORT_PERIODS = 1000
ZERO = Decimal("0.0000")  # money has 4 places, also where there were no calls


class FiguresError(ValueError):
    """A request for figures that cannot be answered (unknown frame, period or column); says why."""


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    kind: str  # "text", "count" (whole numbers), "decimal", "money" or "percent"
    places: int = 0  # decimals of the value as shown, copied and exported

    @property
    def numeric(self) -> bool:
        return self.kind != "text"


COLUMNS = (
    Column("period", "Period", "text"),
    Column("attempts", "Attempts", "count"),
    Column("connected", "Connected", "count"),
    Column("asr", "ASR %", "percent", 2),
    Column("acd", "ACD (s)", "decimal", 1),
    Column("duration", "Duration (s)", "count"),
    Column("billed_duration", "Billed duration (s)", "count"),
    Column("charge", "Customer charge", "money", 4),
    Column("cost", "Cost", "money", 4),
    Column("profit", "Profit", "money", 4),
    Column("profit_pct", "Profit %", "percent", 2),
)
COLUMN_KEYS = tuple(column.key for column in COLUMNS)
BY_KEY = {column.key: column for column in COLUMNS}


def _ratio(numerator, denominator, places: int) -> Decimal | None:
    """numerator / denominator to `places` decimals (half up); None when dividing by zero."""
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)


@dataclass
class Figures:
    """Calls of one period (or of several added up): the sums stored in call_hour, and what follows from them."""

    calls: int = 0
    answered: int = 0
    seconds: int = 0
    billed_seconds: int = 0
    charge: Decimal = ZERO
    cost: Decimal = ZERO

    @property
    def asr(self) -> Decimal | None:
        """Answer-seizure ratio, % of attempts connected."""
        return _ratio(self.answered * 100, self.calls, BY_KEY["asr"].places)

    @property
    def acd(self) -> Decimal | None:
        """Average call duration of the connected calls, in seconds."""
        return _ratio(self.seconds, self.answered, BY_KEY["acd"].places)

    @property
    def profit(self) -> Decimal:
        return self.charge - self.cost

    @property
    def profit_pct(self) -> Decimal | None:
        return _ratio(self.profit * 100, self.charge, BY_KEY["profit_pct"].places)

    def value(self, column: str):
        """A figure column's value: int or Decimal, None for a ratio of nothing."""
        if column == "attempts":
            return self.calls
        if column == "connected":
            return self.answered
        if column == "duration":
            return self.seconds
        if column == "billed_duration":
            return self.billed_seconds
        if column in ("asr", "acd", "charge", "cost", "profit", "profit_pct"):
            return getattr(self, column)
        raise KeyError(column)

    def add(self, other: "Figures") -> None:
        self.calls += other.calls
        self.answered += other.answered
        self.seconds += other.seconds
        self.billed_seconds += other.billed_seconds
        self.charge += other.charge
        self.cost += other.cost


@dataclass
class Row(Figures):
    """One period of a time frame: [start, end), UTC."""

    frame: str = "daily"
    start: datetime = EARLIEST
    end: datetime = EARLIEST

    @property
    def key(self) -> str:
        return start_key(self.frame, self.start)

    @property
    def label(self) -> str:
        return label(self.frame, self.start)

    def value(self, column: str):
        """The cell's value: text for the period, int or Decimal for a figure, None for a ratio of nothing."""
        return self.label if column == "period" else super().value(column)


def raw(value) -> str:
    """A value as copied to a spreadsheet and sent in data- attributes: plain digits, no separators."""
    if value is None:
        return ""
    return str(value)


def shown(column: Column, value) -> str:
    """A value as the grid shows it."""
    if value is None:
        return "—"
    if column.kind == "text":
        return value
    return f"{value:,}" if column.kind == "count" else f"{value:,.{column.places}f}"


# --- grouping in the database ---------------------------------------------------------------------

class _bucket(FunctionElement):
    type = UTCDateTime()
    inherit_cache = True


class day_of(_bucket):
    """The start of the UTC day a stored (naive UTC) date-time falls in, as the database stores date-times."""

    name = "day_of"
    inherit_cache = True


class week_of(_bucket):
    """The Monday (00:00 UTC) of the ISO week a stored date-time falls in."""

    name = "week_of"
    inherit_cache = True


class month_of(_bucket):
    """The first day (00:00 UTC) of the month a stored date-time falls in."""

    name = "month_of"
    inherit_cache = True


@compiles(day_of, "postgresql")
@compiles(week_of, "postgresql")
@compiles(month_of, "postgresql")
def _bucket_postgresql(element, compiler, **kw):
    unit = {"day_of": "day", "week_of": "week", "month_of": "month"}[element.name]
    return f"date_trunc('{unit}', {compiler.process(element.clauses, **kw)})"


# SQLite keeps date-times as 'YYYY-MM-DD HH:MM:SS.ffffff' text: a bucket must come out in that form too.
@compiles(day_of, "sqlite")
def _day_of_sqlite(element, compiler, **kw):
    return f"(substr({compiler.process(element.clauses, **kw)}, 1, 10) || ' 00:00:00.000000')"


@compiles(week_of, "sqlite")
def _week_of_sqlite(element, compiler, **kw):
    # 'weekday 1' moves forward to the next Monday unless already on one: from 6 days back, that is this week's.
    return f"(date({compiler.process(element.clauses, **kw)}, '-6 days', 'weekday 1') || ' 00:00:00.000000')"


@compiles(month_of, "sqlite")
def _month_of_sqlite(element, compiler, **kw):
    return f"(substr({compiler.process(element.clauses, **kw)}, 1, 7) || '-01 00:00:00.000000')"


BUCKETS = {"daily": day_of, "weekly": week_of, "monthly": month_of}


def _money_sum(column):
    return sa.func.round(sa.func.sum(column), 4, type_=Money())


def figures_by_start(customer_id: int, frame: str, start: datetime, end: datetime) -> dict[datetime, Figures]:
    """The customer's figures of every period of `frame` in [start, end) that had calls, by period start: one query."""
    h = HourlySummary.__table__
    where = (h.c.customer_id == customer_id, h.c.hour >= start, h.c.hour < end)
    if frame == "live":
        query = sa.select(h.c.hour, h.c.calls, h.c.answered, h.c.seconds, h.c.billed_seconds, h.c.charge,
                          h.c.cost).where(*where)
    else:
        bucket = BUCKETS[frame](h.c.hour)
        query = (
            sa.select(bucket, sa.func.sum(h.c.calls), sa.func.sum(h.c.answered), sa.func.sum(h.c.seconds),
                      sa.func.sum(h.c.billed_seconds), _money_sum(h.c.charge), _money_sum(h.c.cost))
            .where(*where)
            .group_by(bucket)
        )
    return {
        # PostgreSQL sums BIGINT columns as NUMERIC: whole numbers back to int.
        moment: Figures(int(calls), int(answered), int(seconds), int(billed), Decimal(charge), Decimal(cost))
        for moment, calls, answered, seconds, billed, charge, cost in db.session.execute(query)
    }


# --- the tab's page of rows -----------------------------------------------------------------------

@dataclass
class FramePage:
    frame: str
    rows: list[Row]  # newest first
    total: Figures  # the sums of the rows (its ratios are true averages)
    before: str | None  # the `before` this page was asked for (None: the newest page)
    earlier: str | None  # `before` for the next page back, None at the earliest
    later: str | None  # `before` for the next page forward; "" means the newest page; None on the newest

    @property
    def start(self) -> datetime:
        return self.rows[-1].start

    @property
    def end(self) -> datetime:
        return self.rows[0].end


def check_frame(frame: str | None) -> str:
    if frame not in FRAMES:
        names = ", ".join(FRAME_NAMES[f] for f in FRAMES)
        raise FiguresError(f"There is no time frame {str(frame)[:40]!r}: choose one of {names}.")
    return frame


def check_start(frame: str, key: str | None) -> datetime:
    """A period start from a page (start_key form) → its aware datetime, or FiguresError saying why."""
    try:
        start = parse_start(frame, key or "")
    except ValueError as error:
        raise FiguresError(f"{error}.") from None
    if not EARLIEST <= start < LATEST:
        raise FiguresError(f"{key} is outside the years the Summary covers ({EARLIEST.year}–{LATEST.year - 1}).")
    return start


def frame_page(customer_id: int, frame: str, now: datetime, before: str | None = None) -> FramePage:
    """The page of `frame`'s rows ending with the period holding `now`, or with the one before `before`."""
    frame = check_frame(frame)
    count = PAGE_SIZES[frame]
    current = period_start(frame, now)
    if before:
        newest = previous_start(frame, check_start(frame, before))
        if newest >= current:  # a `before` in the future: the newest page
            newest, before = current, None
    else:
        newest, before = current, None
    periods = [(start, end) for start, end in recent_periods(frame, newest, count) if start >= EARLIEST]
    if not periods:
        raise FiguresError(f"There is nothing before {EARLIEST:%Y-%m-%d}.")
    figures = figures_by_start(customer_id, frame, periods[-1][0], periods[0][1])
    rows, total = [], Figures()
    for start, end in periods:
        found = figures.get(start, Figures())
        total.add(found)
        rows.append(Row(found.calls, found.answered, found.seconds, found.billed_seconds, found.charge, found.cost,
                        frame=frame, start=start, end=end))
    oldest = periods[-1][0]
    earlier = start_key(frame, oldest) if previous_start(frame, oldest) >= EARLIEST else None
    later = None
    if before:
        following = newest
        for _ in range(count + 1):
            following = period_end(frame, following)
        later = "" if following > current else start_key(frame, following)
    return FramePage(frame=frame, rows=rows, total=total, before=before, earlier=earlier, later=later)


def rows_for(customer_id: int, frame: str, keys: list[str]) -> list[Row]:
    """The rows of the periods named by `keys` (start_key texts), newest first, each once: one query."""
    frame = check_frame(frame)
    if not keys:
        raise FiguresError("Select at least one period.")
    starts = sorted({check_start(frame, key) for key in keys[:MAX_EXPORT_PERIODS + 1]}, reverse=True)
    if len(starts) > MAX_EXPORT_PERIODS:
        raise FiguresError(f"Export at most {MAX_EXPORT_PERIODS} periods at a time.")
    figures = figures_by_start(customer_id, frame, starts[-1], period_end(frame, starts[0]))
    rows = []
    for start in starts:
        found = figures.get(start, Figures())
        rows.append(Row(found.calls, found.answered, found.seconds, found.billed_seconds, found.charge, found.cost,
                        frame=frame, start=start, end=period_end(frame, start)))
    return rows


def check_columns(keys: list[str]) -> list[Column]:
    """Column keys from a page → the columns in the grid's order (the period always first), or FiguresError."""
    unknown = [key for key in keys if key not in BY_KEY]
    if unknown:
        raise FiguresError(f"There is no column {unknown[0][:40]!r}: choose from {', '.join(COLUMN_KEYS)}.")
    wanted = set(keys) | {"period"}
    return [column for column in COLUMNS if column.key in wanted]
