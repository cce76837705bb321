"""Time frames of the Summary and of invoices: hours, UTC days, ISO weeks (Monday first) and calendar months.

A period is [start, end): `start` is an aware UTC datetime on the frame's boundary and `end` is the
next boundary. Everything here is plain arithmetic, shared by the Summary grid and by billing.
"""
from datetime import UTC, date, datetime, timedelta

FRAMES = ("live", "daily", "weekly", "monthly")
BILLING_FRAMES = ("daily", "weekly", "monthly")  # the Live tab's hours are never invoiced
FRAME_NAMES = {"live": "Live", "daily": "Daily", "weekly": "Weekly", "monthly": "Monthly"}
FIRST_YEAR, LAST_YEAR = 1970, 8999  # a period a page sends back must lie here (no date overflow at year 9999)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; use an aware UTC datetime")
    return moment.astimezone(UTC)


def period_start(frame: str, moment: datetime) -> datetime:
    """The start of the period of `frame` that `moment` falls in."""
    moment = _utc(moment)
    if frame == "live":
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if frame == "daily":
        return day
    if frame == "weekly":
        return day - timedelta(days=day.weekday())
    if frame == "monthly":
        return day.replace(day=1)
    raise ValueError(f"unknown time frame: {frame}")


def period_end(frame: str, start: datetime) -> datetime:
    """The end (exclusive) of the period that begins at `start`."""
    if frame == "live":
        return start + timedelta(hours=1)
    if frame == "daily":
        return start + timedelta(days=1)
    if frame == "weekly":
        return start + timedelta(days=7)
    if frame == "monthly":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    raise ValueError(f"unknown time frame: {frame}")


def previous_start(frame: str, start: datetime) -> datetime:
    """The start of the period before the one that begins at `start`."""
    return period_start(frame, start - timedelta(microseconds=1))


def recent_periods(frame: str, now: datetime, count: int) -> list[tuple[datetime, datetime]]:
    """The `count` periods up to and including the one holding `now`, newest first."""
    periods = []
    start = period_start(frame, now)
    for _ in range(count):
        periods.append((start, period_end(frame, start)))
        start = previous_start(frame, start)
    return periods


def parse_start(frame: str, text: str) -> datetime:
    """A period start sent back by a page ("2026-11-20", or "2026-11-20T13:00" for an hour).

    Raises ValueError unless it is the first moment of a period of `frame`."""
    text = (text or "").strip()
    try:
        if frame == "live":
            moment = datetime.fromisoformat(text)
            moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        else:
            moment = datetime.combine(date.fromisoformat(text[:10]), datetime.min.time(), UTC)
            if len(text) > 10:
                raise ValueError
    except ValueError:
        raise ValueError(f"{text[:40]!r} is not a period start") from None
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise ValueError(f"{text[:40]} is outside the years {FIRST_YEAR}–{LAST_YEAR}")
    if frame not in FRAMES or period_start(frame, moment) != moment:
        raise ValueError(f"{text[:40]} is not the start of a {FRAME_NAMES.get(frame, frame).lower()} period")
    return moment


def start_key(frame: str, start: datetime) -> str:
    """How a period start travels in a form or URL; parse_start reads it back."""
    return start.strftime("%Y-%m-%dT%H:00") if frame == "live" else start.strftime("%Y-%m-%d")


def label(frame: str, start: datetime) -> str:
    """The period as the grid and the invoice show it (24-hour UTC)."""
    if frame == "live":
        return start.strftime("%Y-%m-%d %H:00")
    if frame == "daily":
        return start.strftime("%Y-%m-%d")
    if frame == "weekly":
        last = start + timedelta(days=6)
        return f"{start:%Y-%m-%d} – {last:%Y-%m-%d} (week {start.isocalendar().week})"
    return start.strftime("%Y-%m")
