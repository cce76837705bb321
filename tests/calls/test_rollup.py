"""The hourly roll-up: figures per customer and UTC hour, recomputed (never added to), late records, --since, the worker."""
import threading
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.calls import rollup as rollup_module
from panel.calls.importer import insert_records, parse_row
from panel.calls.models import CallRecord, HourlySummary
from panel.calls.rollup import last_changed, last_run, pending, rollup, rollup_job
from panel.customers.accounts import create_customer
from panel.extensions import db
from tests.helpers import wait_until

T10 = datetime(2026, 3, 1, 10, tzinfo=UTC)
T11 = T10 + timedelta(hours=1)


@pytest.fixture
def customers(app):
    with app.app_context():
        made = [create_customer(SYSTEM, {"name": name, "status": "Active"}, "USD").id for name in ("Alpha", "Beta")]
        unit_of_work.commit()
        return made


def record(customer, call_id, start: datetime, answered=True, duration=60, billed=60, cost="0.0100", charge="0.0150"):
    return parse_row({"customer_id": customer, "call_id": call_id, "start_time": start.isoformat(), "destination": "44",
                      "answered": answered, "duration": duration, "billed_duration": billed, "rate": "0.01",
                      "cost": cost, "charge": charge})


def add(*records, source="sw"):
    with unit_of_work.unit():  # a batch of records is a unit of its own, as the importer and the API make it
        return insert_records(list(records), source)


def hours(app) -> dict:
    with app.app_context():
        rows = db.session.scalars(sa.select(HourlySummary)).all()
        db.session.rollback()
        return {(r.customer_id, r.hour): (r.calls, r.answered, r.seconds, r.billed_seconds, r.cost, r.charge) for r in rows}


def sample(a, b):
    add(
        record(a, "1", T10 + timedelta(minutes=5)),
        record(a, "2", T10 + timedelta(minutes=59, seconds=59, microseconds=999999), answered=False,
               duration=0, billed=0, cost="0", charge="0"),
        record(a, "3", T11, duration=30, billed=36, cost="0.0036", charge="0.0060"),
        record(b, "4", T10 + timedelta(minutes=30), duration=120, billed=120, cost="0.0200", charge="0.0300"),
        record(b, "5", T10 + timedelta(minutes=31), duration=7, billed=60, cost="1.2345", charge="2.5001"),
    )


EXPECTED = {
    "a10": (2, 1, 60, 60, Decimal("0.0100"), Decimal("0.0150")),
    "a11": (1, 1, 30, 36, Decimal("0.0036"), Decimal("0.0060")),
    "b10": (2, 2, 127, 180, Decimal("1.2545"), Decimal("2.5301")),
}


def expected(a, b, **changes):
    figures = {**EXPECTED, **changes}
    return {(a, T10): figures["a10"], (a, T11): figures["a11"], (b, T10): figures["b10"]}


def test_figures_per_customer_and_hour(app, customers):
    a, b = customers
    with app.app_context():
        sample(a, b)
        report = rollup()
        assert report.hours == 3 and report.seconds >= 0
    figures = hours(app)
    assert figures == expected(a, b)
    assert all(isinstance(v, Decimal) for row in figures.values() for v in row[4:])
    assert all(hour.tzinfo is not None and hour.minute == 0 for _, hour in figures)


def test_a_time_with_an_offset_counts_in_its_utc_hour(app, customers):
    a, _ = customers
    with app.app_context():
        add(record(a, "tz", datetime(2026, 3, 1, 14, 30, tzinfo=timezone(timedelta(hours=2)))))
        add(record(a, "tz-", datetime(2026, 3, 1, 18, 30, tzinfo=timezone(timedelta(hours=-5)))))
        rollup()
    assert set(hours(app)) == {(a, datetime(2026, 3, 1, 12, tzinfo=UTC)), (a, datetime(2026, 3, 1, 23, tzinfo=UTC))}


def test_running_twice_gives_the_same_figures(app, customers):
    a, b = customers
    with app.app_context():
        sample(a, b)
        rollup()
        first = hours(app)
        assert rollup().hours == 0  # nothing new: nothing recomputed
        assert rollup(since=T10 - timedelta(days=1)).hours == 3  # everything recomputed, nothing added
    assert hours(app) == first == expected(a, b)


def test_a_late_record_is_picked_up_by_the_next_rollup(app, customers):
    a, b = customers
    with app.app_context():
        sample(a, b)
        rollup()
        first_run = last_run()
        add(record(a, "late", T10 + timedelta(minutes=40), duration=10, billed=12, cost="0.0002", charge="0.0003"))
        assert pending()
        assert rollup().hours == 1  # only the late record's hour
        assert last_run() > first_run and last_changed() == last_run()
        assert not pending()
    assert hours(app) == expected(a, b, a10=(3, 2, 70, 72, Decimal("0.0102"), Decimal("0.0153")))


def test_a_record_sent_again_changes_nothing(app, customers):
    a, b = customers
    with app.app_context():
        sample(a, b)
        rollup()
        assert add(record(a, "1", T10 + timedelta(minutes=5), cost="9.9999")) == (0, 1)
        assert not pending()
        rollup()
    assert hours(app) == expected(a, b)


def test_since_recomputes_every_hour_from_then(app, customers):
    a, b = customers
    with app.app_context():
        sample(a, b)
        rollup()
        # Figures spoiled by hand, and an hour with no records left: --since puts right what it covers.
        db.session.execute(sa.text("UPDATE call_hour SET calls = 99, charge = 99"))
        db.session.add(HourlySummary(customer_id=b, hour=T11 + timedelta(hours=5), calls=1, answered=1, seconds=1,
                                     billed_seconds=1, cost=Decimal(1), charge=Decimal(1)))
        db.session.commit()
        report = rollup(since=T11 + timedelta(minutes=30))  # from the start of its hour
        assert report.hours == 1
    figures = hours(app)
    assert figures[(a, T11)] == EXPECTED["a11"]
    assert figures[(a, T10)][0] == 99 and figures[(b, T10)][0] == 99  # before `since`: untouched
    assert (b, T11 + timedelta(hours=5)) not in figures


def test_since_also_takes_late_records_before_it(app, customers):
    a, b = customers
    with app.app_context():
        sample(a, b)
        rollup()
        add(record(b, "late", T10, duration=1, billed=1, cost="0", charge="0"))
        assert rollup(since=T11).hours == 2  # a's 11:00 (since) and b's 10:00 (late record)
    assert hours(app)[(b, T10)][:2] == (3, 3)


def test_since_must_say_its_time_zone(app):
    with app.app_context(), pytest.raises(ValueError, match="naive"):
        rollup(since=datetime(2026, 3, 1))


def test_the_first_rollup_takes_everything(app, customers):
    a, b = customers
    with app.app_context():
        sample(a, b)
        assert last_run() is None and last_changed() is None and pending()
        rollup()
        assert last_run() is not None
    assert hours(app) == expected(a, b)


def test_the_rollup_command(app, customers):
    a, b = customers
    with app.app_context():
        sample(a, b)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["rollup"])
    assert result.exit_code == 0 and "3 customer-hours recomputed" in result.output, result.output
    assert "0 customer-hours" in runner.invoke(args=["rollup"]).output
    result = runner.invoke(args=["rollup", "--since", "2026-03-01T11:15:00"])
    assert result.exit_code == 0 and "1 customer-hours recomputed" in result.output, result.output
    assert "3 customer-hours" in runner.invoke(args=["rollup", "--since", "2026-03-01T12:00:00+02:00"]).output  # 10:00 UTC
    bad = runner.invoke(args=["rollup", "--since", "last tuesday"])
    assert bad.exit_code == 2 and "ISO 8601" in bad.output
    assert hours(app) == expected(a, b)


def test_the_worker_job_works_only_when_records_arrived(app, customers):
    from panel.worker import run_pass

    a, b = customers
    with app.app_context():
        assert rollup_job() is None  # no records at all
        sample(a, b)
        assert run_pass()["roll-up"].startswith("3 customer-hours recomputed")
        assert rollup_job() is None
        assert run_pass()["roll-up"] is None
        add(record(a, "late", T11))
        assert rollup_job().startswith("1 customer-hours recomputed")
        assert rollup_job() is None
    assert hours(app)[(a, T11)][0] == 2


def test_hours_of_many_customers_go_in_several_statements(app, monkeypatch):
    monkeypatch.setattr(rollup_module, "RANGES_PER_STATEMENT", 2)
    with app.app_context():
        ids = [create_customer(SYSTEM, {"name": f"C{i}"}, "USD").id for i in range(5)]
        unit_of_work.commit()
        add(*(record(c, f"{c}-{h}", T10 + timedelta(hours=h)) for c in ids for h in (0, 1, 3)))
        rollup()  # the first run: everything in one statement
        add(*(record(c, f"{c}-{h}-late", T10 + timedelta(hours=h, minutes=1)) for c in ids for h in (0, 1, 3)))
        assert rollup().hours == 15  # 5 customers × (10-12 and 13-14): 10 ranges, 5 statements
    figures = hours(app)
    assert len(figures) == 15 and {row[0] for row in figures.values()} == {2}


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_rollup_waits_for_records_still_being_inserted(backend, request):
    """Without the lock, a roll-up could pass over a record whose transaction commits after the
    roll-up read: its received_at would be before the new last_run, and it would never count."""
    target = request.getfixturevalue("pg_app" if backend == "postgresql" else "app")
    with target.app_context():
        c = create_customer(SYSTEM, {"name": "Gamma"}, "USD").id
        unit_of_work.commit()
        rollup()  # a previous run, so the next one looks only at records received since
    inserted, rolled, errors = threading.Event(), [], []
    rolling = threading.Event()  # the roll-up has asked for its lock

    def on_statement(connection, cursor, statement, *args):
        if threading.current_thread().name == "roll-up" and (
                statement == "BEGIN IMMEDIATE" or "pg_advisory_xact_lock(" in statement):
            rolling.set()

    def roll_up_waits() -> bool:
        """The roll-up asked for the lock the import holds; on PostgreSQL, it is seen waiting for it."""
        if not rolling.wait(10):
            return False
        if db.engine.dialect.name != "postgresql":
            return True  # SQLite shows no waiting writer: it blocks inside BEGIN IMMEDIATE
        with db.engine.connect() as watcher:
            return watcher.scalar(sa.text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"))

    with target.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", on_statement)

    def slow_import():
        try:
            with target.app_context():
                connection = db.session.connection()
                rollup_module.hold_off_rollups(connection)
                row = record(c, "slow", T10)
                db.session.execute(sa.insert(CallRecord.__table__).values(
                    **row, source="sw", received_at=rollup_module.database_now(connection)))
                inserted.set()
                wait_until(roll_up_waits, message="the roll-up waiting for the import")  # it starts meanwhile
                db.session.commit()
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    def roll():
        try:
            inserted.wait(5)
            with target.app_context():
                rolled.append(rollup().hours)
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=slow_import), threading.Thread(target=roll, name="roll-up")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sa.event.remove(engine, "before_cursor_execute", on_statement)
    assert errors == [] and rolled == [1]
    assert hours(target)[(c, T10)][0] == 1
    with target.app_context():
        assert not pending()
        db.session.remove()
