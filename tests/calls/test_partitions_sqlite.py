"""SQLite keeps call_record as one table: the partition steps do nothing there, the dedup key stays
(source, call_id), and the retention setting is validated on Settings → Options on either database."""
import io
import shutil
from datetime import UTC, datetime

import sqlalchemy as sa

from panel import create_app, unit_of_work
from panel.actor import SYSTEM
from panel.calls import partitions
from panel.calls.importer import import_csv
from panel.customers.accounts import create_customer
from panel.extensions import db
from panel.options import get_option
from panel.worker import run_pass
from tests.helpers import app_config

HEADER = "customer_id,call_id,start_time,destination,answered,duration,billed_duration,rate,cost,charge\n"


def test_sqlite_keeps_one_table_and_the_same_dedup(sqlite_template, tmp_path):
    path = tmp_path / "panel.db"
    shutil.copy(sqlite_template, path)
    app = create_app(app_config(f"sqlite:///{path}"))
    with app.app_context():
        customer = create_customer(SYSTEM, {"name": "One Table", "status": "Active"}, "USD").id
        unit_of_work.commit()
        connection = db.session.connection()
        assert not partitions.is_partitioned(connection)
        assert partitions.make_ahead(connection) == [] and partitions.adopt_default(connection) == []
        db.session.rollback()
        tables = set(sa.inspect(db.engine).get_table_names())
        assert "call_record" in tables and not any(t.startswith("call_record_") for t in tables)
        # (source, call_id) names a record here: the same call id with another start time is a duplicate.
        report = import_csv(io.StringIO(
            HEADER + f"{customer},s1,2024-06-01T10:00:00Z,44,true,60,60,0.01,0.01,0.015\n"
            f"{customer},s1,2025-01-01T10:00:00Z,44,true,60,60,0.01,0.01,0.015\n"), "switch")
        assert (report.inserted, report.duplicates) == (1, 1)
        assert run_pass()["call partitions"] is None
        with unit_of_work.unit():
            assert partitions.apply_retention(SYSTEM, keep=1) == partitions.Retention([], [])
        assert db.session.scalar(sa.text("SELECT count(*) FROM call_record")) == 1
        db.session.remove()
    listed = app.test_cli_runner().invoke(args=["call-partitions", "--apply-retention"])
    assert listed.exit_code == 0 and "one table here (SQLite)" in listed.output
    with app.app_context():
        db.engine.dispose()


def test_the_retention_setting_is_validated_and_saved_on_the_options_page(app, as_role):
    client = as_role("admin")
    page = client.get("/settings/options")
    assert page.status_code == 200 and "Call record retention (months)" in page.get_data(as_text=True)
    for bad in ("abc", "0", "-3", "2.5", "1201"):
        response = client.post("/settings/options", data={"call_record_retention": bad, "sip_realm": "sip.example.net"})
        body = response.get_data(as_text=True)
        assert response.status_code == 422, bad
        assert "months" in body and f'value="{bad}"' in body  # the message by the field, the typed value kept
        with app.app_context():
            assert get_option(partitions.RETENTION_OPTION) == ""
    response = client.post("/settings/options", data={"call_record_retention": " 24 ", "sip_realm": "sip.example.net"})
    assert response.status_code == 303
    with app.app_context():
        assert get_option(partitions.RETENTION_OPTION) == "24"
        assert partitions.retention_months() == 24
    client.post("/settings/options", data={"call_record_retention": "", "sip_realm": "sip.example.net"})
    with app.app_context():
        assert partitions.retention_months() is None


def test_the_cutoff_keeps_the_current_month_and_the_months_before_it():
    now = datetime(2026, 3, 31, 23, 59, tzinfo=UTC)
    assert partitions.cutoff(1, now) == datetime(2026, 2, 1)
    assert partitions.cutoff(14, now) == datetime(2025, 1, 1)
    assert partitions.add_months(datetime(2026, 12, 1), 1) == datetime(2027, 1, 1)
    assert partitions.parse_retention("") is None and partitions.parse_retention("12") == 12
