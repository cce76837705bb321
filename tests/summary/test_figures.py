"""The Summary's figures: ratios and division by zero, zero rows, UTC periods, exact money, pages, one query a tab."""
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.calls.importer import insert_records, parse_row
from panel.customers.accounts import create_customer
from panel.extensions import db
from panel.summary.figures import BY_KEY as COLUMNS
from panel.summary.figures import (
    COLUMN_KEYS,
    MAX_EXPORT_PERIODS,
    PAGE_SIZES,
    Figures,
    FiguresError,
    check_columns,
    frame_page,
    raw,
    rows_for,
    shown,
)
from tests.summary.data import NOW, add_hours, hour_row

H = timedelta(hours=1)


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def acme(ctx, customer):
    return customer


def test_ratios_profit_and_profit_percent():
    f = Figures(calls=3, answered=2, seconds=125, billed_seconds=180, charge=Decimal("0.0300"), cost=Decimal("0.0100"))
    assert f.asr == Decimal("66.67")  # 2 of 3 attempts connected
    assert f.acd == Decimal("62.5")  # 125 s over 2 connected calls
    assert f.profit == Decimal("0.0200")
    assert f.profit_pct == Decimal("66.67")
    assert all(isinstance(v, Decimal) for v in (f.asr, f.acd, f.profit, f.profit_pct))


def test_ratios_of_nothing_are_blank_not_errors():
    empty = Figures()
    assert (empty.asr, empty.acd, empty.profit, empty.profit_pct) == (None, None, Decimal(0), None)
    unanswered = Figures(calls=5)
    assert unanswered.asr == Decimal("0.00") and unanswered.acd is None
    cost_only = Figures(calls=1, answered=1, seconds=10, cost=Decimal("0.5000"))
    assert cost_only.profit == Decimal("-0.5000") and cost_only.profit_pct is None
    loss = Figures(calls=1, answered=1, charge=Decimal("1.0000"), cost=Decimal("1.5000"))
    assert loss.profit_pct == Decimal("-50.00")
    assert shown(COLUMNS["asr"], None) == "—" and raw(None) == ""


def test_cells_as_shown_and_as_copied():
    assert shown(COLUMNS["attempts"], 1234567) == "1,234,567" and raw(1234567) == "1234567"
    assert shown(COLUMNS["charge"], Decimal("12345.6")) == "12,345.6000"
    assert raw(Decimal("12345.6000")) == "12345.6000"
    assert shown(COLUMNS["acd"], Decimal("62.5")) == "62.5"


def test_live_is_the_last_24_hours_newest_first_with_empty_hours_as_zero_rows(acme):
    add_hours(hour_row(acme, datetime(2026, 11, 20, 13, tzinfo=UTC), calls=4, answered=2, seconds=100, charge="1.2500"),
              hour_row(acme, datetime(2026, 11, 19, 14, tzinfo=UTC), calls=1, answered=1, seconds=7, charge="0.0001"),
              hour_row(acme, datetime(2026, 11, 19, 13, tzinfo=UTC), calls=9))  # 25 hours ago: not shown
    page = frame_page(acme, "live", NOW)
    assert len(page.rows) == 24
    assert page.rows[0].start == datetime(2026, 11, 20, 13, tzinfo=UTC) and page.rows[0].key == "2026-11-20T13:00"
    assert page.rows[-1].start == datetime(2026, 11, 19, 14, tzinfo=UTC)
    assert [r.start - r.end for r in page.rows] == [-H] * 24
    assert all(a.start - b.start == H for a, b in zip(page.rows, page.rows[1:], strict=False))
    assert page.rows[0].calls == 4 and page.rows[0].asr == Decimal("50.00") and page.rows[0].acd == Decimal("50.0")
    assert page.rows[-1].charge == Decimal("0.0001")
    zero = page.rows[1]
    assert (zero.calls, zero.answered, zero.seconds, zero.charge, zero.asr, zero.acd) == (0, 0, 0, Decimal(0), None, None)
    assert page.total.calls == 5 and page.total.charge == Decimal("1.2501")
    assert page.rows[0].label == "2026-11-20 13:00"


def test_days_weeks_and_months_split_at_utc_midnight_monday_and_the_first(acme):
    add_hours(
        hour_row(acme, datetime(2026, 10, 31, 23, tzinfo=UTC), calls=1, charge="1.0000"),  # Saturday, October
        hour_row(acme, datetime(2026, 11, 1, 0, tzinfo=UTC), calls=2, charge="2.0000"),  # Sunday, November
        hour_row(acme, datetime(2026, 11, 15, 23, tzinfo=UTC), calls=4, charge="4.0000"),  # Sunday
        hour_row(acme, datetime(2026, 11, 16, 0, tzinfo=UTC), calls=8, charge="8.0000"),  # Monday: a new ISO week
        hour_row(acme, datetime(2026, 11, 16, 23, tzinfo=UTC), calls=16, charge="16.0000"),
    )
    daily = {r.key: r.calls for r in frame_page(acme, "daily", NOW).rows}
    assert len(daily) == 31 and min(daily) == "2026-10-21" and max(daily) == "2026-11-20"
    assert (daily["2026-10-31"], daily["2026-11-01"], daily["2026-11-15"], daily["2026-11-16"]) == (1, 2, 4, 24)
    assert sum(daily.values()) == 31
    weekly = {r.key: r.calls for r in frame_page(acme, "weekly", NOW).rows}
    assert len(weekly) == 13 and max(weekly) == "2026-11-16"
    assert (weekly["2026-10-26"], weekly["2026-11-09"], weekly["2026-11-16"]) == (3, 4, 24)
    monthly = frame_page(acme, "monthly", NOW).rows
    assert [r.key for r in monthly[:3]] == ["2026-11-01", "2026-10-01", "2026-09-01"] and len(monthly) == 12
    assert (monthly[0].calls, monthly[0].charge, monthly[1].calls, monthly[1].charge) == (30, Decimal("30.0000"), 1, Decimal("1.0000"))
    assert monthly[0].label == "2026-11" and frame_page(acme, "weekly", NOW).rows[0].label.startswith("2026-11-16 – 2026-11-22")


def test_money_sums_are_exact_decimals(acme):
    start = datetime(2026, 11, 1, tzinfo=UTC)
    # 480 hours of 0.1001 charge and 0.0333 cost: a float sum would drift in the last places.
    add_hours(*(hour_row(acme, start + i * H, calls=1, answered=1, seconds=3, charge="0.1001", cost="0.0333")
                for i in range(480)))
    month = frame_page(acme, "monthly", NOW).rows[0]
    assert month.charge == Decimal("48.0480") and month.cost == Decimal("15.9840")
    assert isinstance(month.charge, Decimal) and isinstance(month.calls, int) and isinstance(month.seconds, int)
    assert month.profit == Decimal("32.0640") and month.profit_pct == Decimal("66.73")
    days = frame_page(acme, "daily", NOW).rows
    assert days[0].key == "2026-11-20" and days[0].charge == Decimal("2.4024")  # 24 hours × 0.1001
    assert sum((d.charge for d in days), Decimal(0)) == Decimal("48.0480")


def test_other_customers_and_raw_records_are_not_counted(app, acme):
    other = create_customer(SYSTEM, {"name": "Other", "status": "Active"}, "USD").id
    unit_of_work.commit()
    add_hours(hour_row(other, datetime(2026, 11, 20, 10, tzinfo=UTC), calls=50))
    # Call records that were never rolled up: the Summary reads call_hour only.
    with unit_of_work.unit():
        insert_records([parse_row({"customer_id": acme, "call_id": "x1", "start_time": "2026-11-20T10:05:00Z",
                                   "answered": True, "duration": 60, "billed_duration": 60, "rate": "0.01",
                                   "cost": "0.01", "charge": "0.02"})], "sw")
    assert frame_page(acme, "daily", NOW).total.calls == 0
    assert frame_page(other, "daily", NOW).total.calls == 50


@pytest.mark.parametrize("frame", ["live", "daily", "weekly", "monthly"])
def test_each_tab_is_one_query(app, acme, frame):
    add_hours(hour_row(acme, datetime(2026, 11, 20, 10, tzinfo=UTC), calls=1))
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if not statement.startswith("BEGIN"):
            statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        page = frame_page(acme, frame, NOW)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(page.rows) == PAGE_SIZES[frame]
    assert len(statements) == 1 and "call_hour" in statements[0] and "call_record" not in statements[0]


def test_earlier_and_later_pages_follow_on_without_gaps(acme):
    for frame in ("live", "daily", "weekly", "monthly"):
        first = frame_page(acme, frame, NOW)
        assert first.before is None and first.later is None
        second = frame_page(acme, frame, NOW, before=first.earlier)
        assert second.rows[0].end == first.rows[-1].start, frame
        assert len(second.rows) == PAGE_SIZES[frame]
        assert second.later == ""  # the page after it is the newest
        third = frame_page(acme, frame, NOW, before=second.earlier)
        assert third.rows[0].end == second.rows[-1].start
        back = frame_page(acme, frame, NOW, before=third.later)
        assert [r.key for r in back.rows] == [r.key for r in second.rows], frame


def test_a_page_before_a_future_period_is_the_newest_page(acme):
    page = frame_page(acme, "daily", NOW, before="2027-01-01")
    assert page.rows[0].key == "2026-11-20" and page.before is None and page.later is None


def test_the_pages_stop_at_1970(acme):
    page = frame_page(acme, "monthly", NOW, before="1970-06-01")
    assert [r.key for r in page.rows] == ["1970-05-01", "1970-04-01", "1970-03-01", "1970-02-01", "1970-01-01"]
    assert page.earlier is None
    weeks = frame_page(acme, "weekly", NOW, before="1970-03-02")
    assert weeks.rows[-1].key == "1970-01-05" and weeks.earlier is None  # 1969-12-29 would begin before 1970


@pytest.mark.parametrize("frame, before, message", [
    ("yearly", None, "There is no time frame 'yearly'"),
    ("", None, "There is no time frame"),
    ("daily", "2026-11-20T13:00", "is not a period start"),
    ("live", "2026-11-20T13:30", "is not the start of a live period"),
    ("weekly", "2026-11-17", "is not the start of a weekly period"),
    ("monthly", "2026-11-02", "is not the start of a monthly period"),
    ("daily", "0001-01-01", "outside the years"),
    ("daily", "1970-01-01", "nothing before 1970-01-01"),
    ("daily", "x" * 5000, "is not a period start"),
    ("daily", "<script>", "is not a period start"),
])
def test_unknown_frames_and_periods_are_refused_with_a_reason(acme, frame, before, message):
    with pytest.raises(FiguresError, match=message):
        frame_page(acme, frame, NOW, before=before)


def test_rows_for_an_export_are_the_named_periods_once_newest_first(acme):
    add_hours(hour_row(acme, datetime(2026, 11, 2, 5, tzinfo=UTC), calls=3, charge="0.3000"),
              hour_row(acme, datetime(2025, 1, 9, 5, tzinfo=UTC), calls=7))
    rows = rows_for(acme, "daily", ["2025-01-09", "2026-11-02", "2025-01-09", "2026-11-03"])
    assert [(r.key, r.calls) for r in rows] == [("2026-11-03", 0), ("2026-11-02", 3), ("2025-01-09", 7)]
    with pytest.raises(FiguresError, match="at least one period"):
        rows_for(acme, "daily", [])
    with pytest.raises(FiguresError, match="is not the start of a weekly period"):
        rows_for(acme, "weekly", ["2026-11-17"])
    with pytest.raises(FiguresError, match=f"at most {MAX_EXPORT_PERIODS}"):
        start = datetime(2020, 1, 1, tzinfo=UTC)
        rows_for(acme, "daily", [f"{start + timedelta(days=i):%Y-%m-%d}" for i in range(MAX_EXPORT_PERIODS + 1)])


def test_columns_come_in_grid_order_with_the_period_first():
    assert [c.key for c in check_columns(["profit", "asr"])] == ["period", "asr", "profit"]
    assert [c.key for c in check_columns(list(reversed(COLUMN_KEYS)))] == list(COLUMN_KEYS)
    with pytest.raises(FiguresError, match="There is no column 'margin'"):
        check_columns(["asr", "margin"])
