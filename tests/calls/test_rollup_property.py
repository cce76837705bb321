"""Property: however records arrive (random batches, resent records, roll-ups in between, repeated,
with and without --since), the hourly figures add up to the raw records, exactly, for any period."""
import itertools
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.calls.importer import insert_records
from panel.calls.models import CallRecord, HourlySummary
from panel.calls.rollup import rollup
from panel.customers.accounts import create_customer
from panel.extensions import db

# Hypothesis keeps its examples in .hypothesis/ of the working directory; in tests/ the next run would
# find it while collecting and warn (tests/pytest.ini replaces norecursedirs), and warnings are errors.
set_hypothesis_home_dir(Path(__file__).resolve().parents[2] / ".hypothesis")

BASE = datetime(2026, 3, 1, tzinfo=UTC)
HOURS = 72  # records fall within three days
HOUR_US = 3600 * 10**6
MONEY = st.decimals(min_value=0, max_value=Decimal("99999.9999"), places=4, allow_nan=False, allow_infinity=False)
# Times anywhere in an hour, with its first and last microsecond drawn often.
WITHIN_HOUR = st.one_of(st.just(0), st.just(HOUR_US - 1), st.integers(0, HOUR_US - 1))
PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def customers_of(app, n=3):
    with app.app_context():
        made = [create_customer(SYSTEM, {"name": f"Carrier {i}", "status": "Active"}, "USD").id for i in range(n)]
        unit_of_work.commit()
        return made


def records(customers, busy_hours):
    """Random records; most fall in a few busy hours, so later batches often land in hours already rolled up."""
    return st.lists(st.fixed_dictionaries({
        "customer_id": st.sampled_from(customers),
        "hour": st.one_of(st.sampled_from(busy_hours), st.integers(0, HOURS - 1)),
        "within": WITHIN_HOUR,
        "answered": st.booleans(),
        "duration_seconds": st.integers(0, 7200),
        "billed_seconds": st.integers(0, 7200),
        "cost": MONEY,
        "charge": MONEY,
    }), min_size=1, max_size=60)


def clean(forget_last_run: bool) -> None:
    # Plain SQL: neither table is audited, and each example starts from nothing.
    db.session.execute(sa.text("DELETE FROM call_hour"))
    db.session.execute(sa.text("DELETE FROM call_record"))
    if forget_last_run:
        db.session.execute(sa.text("DELETE FROM rollup_state"))
    db.session.commit()


def as_row(n: int, drawn: dict) -> dict:
    start = BASE + timedelta(hours=drawn["hour"], microseconds=drawn["within"])
    return {"customer_id": drawn["customer_id"], "call_id": f"call-{n}", "start_time": start, "destination": "44",
            "answered": drawn["answered"], "duration_seconds": drawn["duration_seconds"],
            "billed_seconds": drawn["billed_seconds"], "rate": Decimal("0.010000"),
            "cost": drawn["cost"], "charge": drawn["charge"]}


def in_period(rows, lo, hi, customer):
    return [r for r in rows if lo <= r["start_time"] < hi and customer in (None, r["customer_id"])]


def totals(rows):
    return (len(rows), sum((r["cost"] for r in rows), Decimal(0)), sum((r["charge"] for r in rows), Decimal(0)))


def sums(model, column, lo, hi, customer, count):
    query = sa.select(count, sa.func.coalesce(sa.func.sum(model.cost), 0), sa.func.coalesce(sa.func.sum(model.charge), 0))
    query = query.where(column >= lo, column < hi)
    if customer is not None:
        query = query.where(model.customer_id == customer)
    calls, cost, charge = db.session.execute(query).one()
    return int(calls or 0), Decimal(cost).quantize(Decimal("0.0001")), Decimal(charge).quantize(Decimal("0.0001"))


def check(app, customers, data):
    with app.app_context():
        clean(forget_last_run=data.draw(st.booleans(), label="forget the last roll-up"))
        k = data.draw(st.integers(2, 3), label="customers")
        busy = data.draw(st.lists(st.integers(0, HOURS - 1), min_size=1, max_size=4, unique=True), label="busy hours")
        drawn = data.draw(records(customers[:k], busy), label="records")
        rows = [as_row(n, d) for n, d in enumerate(drawn)]
        cuts = sorted(data.draw(st.lists(st.integers(0, len(rows)), max_size=6), label="batch cuts"))
        bounds = [0, *cuts, len(rows)]
        sent = []
        for lo, hi in itertools.pairwise(bounds):
            batch = rows[lo:hi]
            again = data.draw(st.lists(st.sampled_from(sent), max_size=4), label="resent") if sent else []
            with unit_of_work.unit():  # a batch is a unit of its own, as the importer and the API make it
                assert insert_records(batch + again, "property") == (len(batch), len(again))
            sent.extend(batch)
            step = data.draw(st.sampled_from(["nothing", "roll-up", "roll-up twice", "since"]), label="then")
            if step in ("roll-up", "roll-up twice"):
                rollup()
            if step == "roll-up twice":
                assert rollup().hours == 0
            if step == "since":
                rollup(since=BASE + timedelta(hours=data.draw(st.integers(0, HOURS)), minutes=30))
        rollup()

        # Every (customer, hour) row is exactly its records' figures...
        expected = defaultdict(lambda: [0, 0, 0, 0, Decimal(0), Decimal(0)])
        for r in rows:
            hour = r["start_time"].replace(minute=0, second=0, microsecond=0)
            figures = expected[(r["customer_id"], hour)]
            figures[0] += 1
            figures[1] += int(r["answered"])
            figures[2] += r["duration_seconds"]
            figures[3] += r["billed_seconds"]
            figures[4] += r["cost"]
            figures[5] += r["charge"]
        stored = {(h.customer_id, h.hour): [h.calls, h.answered, h.seconds, h.billed_seconds, h.cost, h.charge]
                  for h in db.session.scalars(sa.select(HourlySummary))}
        assert stored == dict(expected)

        # ...and for any whole-hour period, the hours' sums are the raw records' sums, to the cent.
        for _ in range(data.draw(st.integers(1, 4), label="periods")):
            start = data.draw(st.integers(0, HOURS), label="period start")
            lo = BASE + timedelta(hours=start)
            hi = lo + timedelta(hours=data.draw(st.integers(1, HOURS), label="period hours"))
            customer = data.draw(st.sampled_from([None, *customers[:k]]), label="customer")
            want = totals(in_period(rows, lo, hi, customer))
            assert sums(HourlySummary, HourlySummary.hour, lo, hi, customer, sa.func.sum(HourlySummary.calls)) == want
            assert sums(CallRecord, CallRecord.start_time, lo, hi, customer, sa.func.count()) == want
        db.session.remove()


@pytest.fixture
def three_customers(app):
    return customers_of(app)


@PROPERTY
@given(data=st.data())
def test_hourly_figures_add_up_to_the_records(app, three_customers, data):
    check(app, three_customers, data)


@pytest.fixture
def three_pg_customers(pg_app):
    return customers_of(pg_app)


@pytest.mark.postgres
@PROPERTY
@given(data=st.data())
def test_hourly_figures_add_up_to_the_records_on_postgresql(pg_app, three_pg_customers, data):
    check(pg_app, three_pg_customers, data)
