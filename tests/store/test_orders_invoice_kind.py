"""Store invoices are a kind of their own (migration 0016_store): the database keeps the one-invoice-per-period
rule and the time frames for usage invoices only, and 0016 goes down and up again on SQLite."""
import shutil
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from sqlalchemy.exc import IntegrityError

from panel import create_app
from panel.extensions import db
from panel.invoices.models import Invoice
from tests.factories import CustomerFactory, InvoiceFactory
from tests.helpers import app_config

DAY = datetime(2026, 11, 2, tzinfo=UTC)


def _invoice(customer_id, **values):
    InvoiceFactory(customer_id=customer_id, period_start=DAY, period_end=DAY + timedelta(days=1),
                   **{"time_frame": "daily", **values})


def test_the_database_refuses_overlapping_usage_invoices_but_not_store_invoices(app):
    with app.app_context():
        customer = CustomerFactory().id
        _invoice(customer)
        _invoice(customer, kind="store", time_frame="order")
        _invoice(customer, kind="store", time_frame="order")
        with pytest.raises(IntegrityError):
            _invoice(customer)
        db.session.rollback()
        with pytest.raises(IntegrityError):
            _invoice(CustomerFactory().id, time_frame="order")  # a usage invoice keeps its time frames
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Invoice)) == 3


def test_0016_goes_down_and_up_again_on_sqlite_keeping_usage_invoices(sqlite_template, tmp_path):
    # On SQLite whatever --db says (PostgreSQL's downgrade is tests/db/test_postgres.py's, down to base and up).
    path = tmp_path / "panel.db"
    shutil.copy(sqlite_template, path)
    app = create_app(app_config(f"sqlite:///{path}"))
    with app.app_context():
        customer = CustomerFactory().id
        _invoice(customer)
        _invoice(customer, kind="store", time_frame="order")
        db.session.remove()
        downgrade(revision="0013_email_key_and_send_limits")
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM invoice").scalar() == 1
            assert "kind" not in {c["name"] for c in sa.inspect(connection).get_columns("invoice")}
            sql = connection.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'invoice'").scalar()
            assert "CHECK (time_frame IN ('daily', 'weekly', 'monthly'))" in sql
        upgrade()
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT kind FROM invoice").scalars().all() == ["usage"]
        _invoice(customer, kind="store", time_frame="order")
        with pytest.raises(IntegrityError):
            _invoice(customer)
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()
