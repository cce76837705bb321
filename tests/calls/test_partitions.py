"""call_record partitioned by month on PostgreSQL: the migration of an existing table, imports into
months without a partition, partitions made ahead by the worker, retention, and partition pruning."""
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from panel import create_app, unit_of_work
from panel.actor import SYSTEM
from panel.audit.models import AuditEntry
from panel.calls import loading, partitions
from panel.calls.importer import import_csv, insert_records
from panel.calls.models import CallRecord, HourlySummary
from panel.calls.rollup import figures_query, rollup
from panel.customers.accounts import create_customer
from panel.extensions import db
from panel.options import set_option
from panel.summary.export import records_query
from panel.worker import run_pass
from tests.helpers import app_config

pytestmark = pytest.mark.postgres

HEADER = "customer_id,call_id,start_time,destination,answered,duration,billed_duration,rate,cost,charge\n"
THIS_MONTH = partitions.month_of(datetime.now(UTC))


def _line(customer: int, call_id: str, start: datetime) -> str:
    return f"{customer},{call_id},{start:%Y-%m-%dT%H:%M:%S}Z,4420,true,60,60,0.010000,0.0100,0.0150\n"


def _customer(app) -> int:
    with app.app_context():
        made = create_customer(SYSTEM, {"name": "Partitioned Carrier", "status": "Active"}, "USD").id
        unit_of_work.commit()
        return made


def _where(app) -> dict[str, list[str]]:
    """Partition → the call ids stored in it."""
    with app.app_context():
        rows = db.session.execute(sa.text(
            "SELECT tableoid::regclass::text, call_id FROM call_record ORDER BY call_id")).all()
        db.session.rollback()
    found = {}
    for table, call_id in rows:
        found.setdefault(table, []).append(call_id)
    return found


def _partitions(app) -> set[str]:
    with app.app_context():
        names = {p.name for p in partitions.listing(db.session.connection())}
        db.session.rollback()
        return names


def _import(app, text: str):
    with app.app_context():
        return import_csv(io.StringIO(text), "switch-a")


# --- the migration ------------------------------------------------------------------------------

def test_the_migration_moves_an_existing_table_into_monthly_partitions_without_losing_a_record(postgres):
    app = create_app(app_config(postgres.create()))
    bases = [datetime(2026, 1, 31, 23, 0), datetime(2026, 2, 1, 0, 0), datetime(2026, 4, 15, 12, 0)]
    starts = [bases[n % 3] + timedelta(minutes=n) for n in range(30)]
    columns = ", ".join(c.name for c in CallRecord.__table__.columns)
    with app.app_context():
        upgrade(revision="0020_alerts")  # the revision before 0021: call_record is one table
        create_customer(SYSTEM, {"name": "Old Carrier", "status": "Active"}, "USD")
        unit_of_work.commit()
        with db.engine.begin() as connection:
            for n, start in enumerate(starts):
                connection.execute(sa.text(
                    "INSERT INTO call_record (customer_id, source, call_id, start_time, destination, answered, "
                    "duration_seconds, billed_seconds, rate, cost, charge, received_at) VALUES (1, 'sw', :call, :start, "
                    "'44', true, 60, 60, 0.01, 0.01, 0.015, now())"), {"call": f"old-{n}", "start": start})
            old_max = connection.execute(sa.text("SELECT max(id) FROM call_record")).scalar()
            before = connection.execute(sa.text(f"SELECT {columns} FROM call_record ORDER BY id")).all()
        db.session.remove()
        upgrade()
        with db.engine.connect() as connection:
            assert partitions.is_partitioned(connection)
            after = connection.execute(sa.text(f"SELECT {columns} FROM call_record ORDER BY id")).all()
            where = dict(connection.execute(sa.text(
                "SELECT tableoid::regclass::text, count(*) FROM call_record GROUP BY 1")).all())
            made = {p.name for p in partitions.listing(connection)}
            key = connection.execute(sa.text(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'pk_call_record'")).scalar()
        assert after == before  # every record, every value, the same ids
        assert where == {"call_record_2026_01": 10, "call_record_2026_02": 10, "call_record_2026_04": 10}
        assert {"call_record_2026_01", "call_record_2026_02", "call_record_2026_04", "call_record_default",
                partitions.partition_name(THIS_MONTH),
                partitions.partition_name(partitions.add_months(THIS_MONTH, 3))} <= made
        assert key == "PRIMARY KEY (id, start_time)"
        # The dedup still holds: the same records again are duplicates, a new one goes in past the old ids.
        text = HEADER + "".join(_line(1, f"old-{n}", start) for n, start in enumerate(starts)) \
            + _line(1, "new-1", datetime(2026, 4, 16))
        report = import_csv(io.StringIO(text), "sw")
        assert (report.inserted, report.duplicates) == (1, 30)
        new_id = db.session.scalar(sa.select(CallRecord.id).where(CallRecord.call_id == "new-1"))
        assert new_id > old_max
        db.session.remove()
        # And back to one table, every record kept.
        downgrade(revision="0020_alerts")
        with db.engine.connect() as connection:
            assert not partitions.is_partitioned(connection)
            assert connection.execute(sa.text("SELECT count(*) FROM call_record")).scalar() == 31
            unique = connection.execute(sa.text(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'uq_call_record_source_call_id'")).scalar()
        assert unique == "UNIQUE (source, call_id)"
        db.engine.dispose()


# --- imports ------------------------------------------------------------------------------------

def test_a_csv_import_into_a_month_without_a_partition_makes_it_and_moves_the_records_there(pg_app):
    customer = _customer(pg_app)
    old = datetime(2024, 6, 30, 23, 59, 59)
    assert partitions.partition_name(old) not in _partitions(pg_app)
    report = _import(pg_app, HEADER + _line(customer, "x1", old) + _line(customer, "x2", datetime(2024, 6, 1))
                     + _line(customer, "x3", THIS_MONTH + timedelta(hours=5)) + _line(999_999, "x4", old))
    assert (report.inserted, report.duplicates, [line for line, _ in report.bad]) == (3, 0, [5])
    where = _where(pg_app)
    assert where == {"call_record_2024_06": ["x1", "x2"], partitions.partition_name(THIS_MONTH): ["x3"]}
    # Sent again: stored once, whichever partition holds it.
    again = _import(pg_app, HEADER + _line(customer, "x1", old) + _line(customer, "x3", THIS_MONTH + timedelta(hours=5)))
    assert (again.inserted, again.duplicates) == (0, 2)
    assert _where(pg_app) == where


def test_an_api_batch_into_a_month_without_a_partition_lands_in_a_partition_of_its_own(pg_app):
    customer = _customer(pg_app)
    row = {"customer_id": customer, "call_id": "api-1", "start_time": datetime(2023, 2, 14, 9, 0, tzinfo=UTC),
           "destination": "44", "answered": True, "duration_seconds": 30, "billed_seconds": 60, "rate": 0,
           "cost": 0, "charge": 0}
    with pg_app.app_context():
        assert insert_records([row], "api") == (1, 0)
        unit_of_work.commit()
        assert insert_records([row], "api") == (0, 1)  # the switch re-sends it: stored once
        unit_of_work.commit()
    assert _where(pg_app) == {"call_record_2023_02": ["api-1"]}


def test_batches_check_their_customers_once_each_with_the_partitions_foreign_key_triggers(pg_app):
    with pg_app.app_context():
        connection = db.session.connection()
        assert loading.checks_customers_per_batch(connection)  # the suite's role is a superuser
        # Any other trigger, on any partition, and every row goes through the triggers again.
        connection.execute(sa.text(
            "CREATE FUNCTION call_record_noop() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'"))
        connection.execute(sa.text(
            f"CREATE TRIGGER extra BEFORE INSERT ON {partitions.partition_name(THIS_MONTH)} "
            "FOR EACH ROW EXECUTE FUNCTION call_record_noop()"))
        assert not loading.checks_customers_per_batch(connection)
        db.session.rollback()
        assert loading.checks_customers_per_batch(db.session.connection())
        db.session.rollback()


# --- made ahead ---------------------------------------------------------------------------------

def test_the_worker_makes_this_month_and_the_next_three_ahead(pg_app):
    far = partitions.add_months(THIS_MONTH, 3)
    with pg_app.app_context():
        connection = db.session.connection()
        connection.execute(sa.text(f"DROP TABLE {partitions.partition_name(far)}"))
        unit_of_work.commit()
    assert partitions.partition_name(far) not in _partitions(pg_app)
    with pg_app.app_context():
        results = run_pass()
    assert results["call partitions"] == f"made {partitions.partition_name(far)}"
    assert {partitions.partition_name(partitions.add_months(THIS_MONTH, k)) for k in range(4)} <= _partitions(pg_app)
    with pg_app.app_context():
        assert run_pass()["call partitions"] is None  # all there: nothing to do
    # A record of the new month goes straight to its partition.
    customer = _customer(pg_app)
    _import(pg_app, HEADER + _line(customer, "ahead", far + timedelta(days=3)))
    assert _where(pg_app) == {partitions.partition_name(far): ["ahead"]}


def test_a_partition_made_ahead_for_later_months(pg_app):
    with pg_app.app_context():
        made = partitions.make_ahead(db.session.connection(), ahead=2, now=datetime(2031, 11, 20, tzinfo=UTC))
        unit_of_work.commit()
    assert made == ["call_record_2031_11", "call_record_2031_12", "call_record_2032_01"]
    with pg_app.app_context():
        bounds = db.session.execute(sa.text(
            "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = 'call_record_2031_12'")).scalar()
        db.session.rollback()
    assert bounds == "FOR VALUES FROM ('2031-12-01 00:00:00') TO ('2032-01-01 00:00:00')"


# --- retention ----------------------------------------------------------------------------------

def test_retention_drops_only_whole_old_months_and_the_hourly_figures_keep_them(pg_app):
    customer = _customer(pg_app)
    old, kept, current = (partitions.add_months(THIS_MONTH, -k) + timedelta(hours=10) for k in (5, 2, 0))
    _import(pg_app, HEADER + _line(customer, "old", old) + _line(customer, "old2", old + timedelta(minutes=5))
            + _line(customer, "kept", kept) + _line(customer, "now", current))
    old_name = partitions.partition_name(partitions.month_of(old))
    with pg_app.app_context():
        set_option(partitions.RETENTION_OPTION, "2")
        unit_of_work.commit()
        results = run_pass()  # the roll-up first, then the partitions step drops what it has seen
    assert results["roll-up"] is not None
    assert old_name in results["call partitions"]
    names = _partitions(pg_app)
    assert old_name not in names
    assert {partitions.partition_name(partitions.month_of(kept)), partitions.partition_name(THIS_MONTH)} <= names
    assert sorted(c for ids in _where(pg_app).values() for c in ids) == ["kept", "now"]
    with pg_app.app_context():
        hours = {h.hour: h.calls for h in db.session.scalars(sa.select(HourlySummary))}
        entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.table_name == "call_record",
                                                              AuditEntry.row_id == old_name)).one()
        assert (entry.action, entry.row_id, entry.message) == ("DELETE", old_name, "Calls dropped")
        assert json.loads(entry.data)["month"] == [None, f"{partitions.month_of(old):%Y-%m}"]
        # A full recompute from before the dropped month keeps its figures.
        rollup(since=(old - timedelta(days=60)).replace(tzinfo=UTC))
        after = {h.hour: h.calls for h in db.session.scalars(sa.select(HourlySummary))}
    assert hours[old.replace(tzinfo=UTC)] == 2
    assert after == hours
    # A late record of the dropped month is stored (in a partition made for it again) but does not
    # replace the hour's figures, which hold the dropped records too.
    _import(pg_app, HEADER + _line(customer, "late-old", old + timedelta(minutes=9)))
    with pg_app.app_context():
        rollup()
        assert db.session.get(HourlySummary, (customer, old.replace(tzinfo=UTC))).calls == 2


def test_retention_keeps_a_month_whose_records_are_not_rolled_up_and_never_the_current_month(pg_app):
    customer = _customer(pg_app)
    old = partitions.add_months(THIS_MONTH, -4) + timedelta(days=1)
    with pg_app.app_context():
        rollup()
    _import(pg_app, HEADER + _line(customer, "late", old) + _line(customer, "now", THIS_MONTH + timedelta(hours=1)))
    with pg_app.app_context():
        waiting = partitions.apply_retention(SYSTEM, keep=1)
        unit_of_work.commit()
    name = partitions.partition_name(partitions.month_of(old))
    assert name not in waiting.dropped and waiting.waiting == [name]
    with pg_app.app_context():
        rollup()
        done = partitions.apply_retention(SYSTEM, keep=1, now=THIS_MONTH + timedelta(days=2))
        unit_of_work.commit()
    assert name in done.dropped and partitions.partition_name(THIS_MONTH) not in done.dropped
    assert _where(pg_app) == {partitions.partition_name(THIS_MONTH): ["now"]}
    assert partitions.cutoff(1, THIS_MONTH) == partitions.add_months(THIS_MONTH, -1)


def test_the_call_partitions_command_lists_the_partitions_and_applies_retention(pg_app):
    customer = _customer(pg_app)
    old = partitions.add_months(THIS_MONTH, -7) + timedelta(days=2)
    _import(pg_app, HEADER + _line(customer, "old", old))
    with pg_app.app_context():
        rollup()
    runner = pg_app.test_cli_runner()
    listed = runner.invoke(args=["call-partitions"])
    assert listed.exit_code == 0, listed.output
    assert f"{partitions.month_of(old):%Y-%m}  {partitions.partition_name(partitions.month_of(old))}" in listed.output
    assert "default  call_record_default" in listed.output
    assert "Retention: keep every month." in listed.output
    applied = runner.invoke(args=["call-partitions", "--apply-retention", "--keep", "6"])
    assert applied.exit_code == 0, applied.output
    assert f"dropped {partitions.partition_name(partitions.month_of(old))}" in applied.output
    assert partitions.partition_name(partitions.month_of(old)) not in _partitions(pg_app)


# --- pruning ------------------------------------------------------------------------------------

def _plan(statement) -> str:
    connection = db.session.connection()
    compiled = statement.compile(dialect=connection.dialect)
    processors = compiled._bind_processors
    params = {key: processors[key](value) if key in processors else value
              for key, value in compiled.construct_params().items()}
    rows = connection.exec_driver_sql("EXPLAIN (COSTS OFF) " + str(compiled), params).all()
    return "\n".join(row[0] for row in rows)


def test_a_one_month_download_reads_only_that_months_partition(pg_app):
    customer = _customer(pg_app)
    months = [partitions.add_months(THIS_MONTH, -k) for k in (2, 1, 0)]
    _import(pg_app, HEADER + "".join(_line(customer, f"p{k}", m + timedelta(days=1)) for k, m in enumerate(months)))
    start = months[1].replace(tzinfo=UTC)
    with pg_app.app_context():
        plan = _plan(records_query(customer, start, partitions.add_months(months[1], 1).replace(tzinfo=UTC)))
        db.session.rollback()
    scanned = {name for name in _partitions(pg_app) if name in plan}
    assert scanned == {partitions.partition_name(months[1])}, plan


def test_the_rollup_of_late_records_reads_only_their_months_partitions(pg_app):
    customer = _customer(pg_app)
    months = [partitions.add_months(THIS_MONTH, -k) for k in (3, 2, 1, 0)]
    _import(pg_app, HEADER + "".join(_line(customer, f"r{k}", m + timedelta(days=1)) for k, m in enumerate(months)))
    r = CallRecord.__table__
    late = [(months[0] + timedelta(days=1, hours=h)).replace(tzinfo=UTC) for h in (0, 5)]
    condition = sa.or_(*(sa.and_(r.c.customer_id == customer, r.c.start_time >= t, r.c.start_time < t + timedelta(hours=1))
                         for t in late))
    with pg_app.app_context():
        plan = _plan(figures_query(condition))
        db.session.rollback()
    assert {name for name in _partitions(pg_app) if name in plan} == {partitions.partition_name(months[0])}, plan
