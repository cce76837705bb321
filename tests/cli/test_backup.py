"""`backup` and `restore`: a running panel is backed up, restored somewhere else, and everything is there,
with the audit chain intact. SQLite uses its online backup; PostgreSQL pg_dump and pg_restore."""
import threading

import pytest
import sqlalchemy as sa

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.audit.chain import verify_chain
from panel.audit.models import AuditEntry
from panel.contacts.models import Contact
from panel.contacts.records import create_contact
from panel.customers.accounts import create_customer
from panel.customers.models import Customer
from panel.extensions import db
from tests.helpers import migrated_app


def fill(app, n=30):
    with app.app_context():
        for i in range(n):
            customer = create_customer(SYSTEM, {"name": f"Backup Co {i}", "status": "Active"}, "USD")
            unit_of_work.commit()
            create_contact(SYSTEM, customer.id, {"name": f"Person {i}", "email": f"p{i}@backup.example"}, password="long password 1")
            db.session.commit()
        db.session.remove()


def contents(app) -> dict:
    with app.app_context():
        found = {
            "customers": db.session.scalars(sa.select(Customer.name).order_by(Customer.id)).all(),
            "contacts": db.session.scalars(sa.select(Contact.email).order_by(Contact.id)).all(),
            "audit": db.session.scalars(sa.select(AuditEntry.hash).order_by(AuditEntry.id)).all(),
        }
        db.session.remove()  # outside a request the session holds SQLite's write lock until it ends
        with db.engine.connect() as connection:
            report = verify_chain(connection)
        db.engine.dispose()
    assert report.intact and report.checked == len(found["audit"])
    return found


@pytest.fixture
def sqlite_app(tmp_path):
    """SQLite whatever --db says: these tests are about SQLite's backup."""
    return migrated_app(f"sqlite:///{tmp_path / 'live.db'}")


def test_a_running_sqlite_panel_is_backed_up_and_restored_elsewhere(sqlite_app, tmp_path):
    app = sqlite_app
    fill(app)
    stop, written = threading.Event(), []

    def keep_writing():  # the panel goes on saving while the backup runs
        with app.app_context():
            while not stop.is_set():
                written.append(create_customer(SYSTEM, {"name": f"During backup {len(written)}"}, "USD").id)
                unit_of_work.commit()
            db.session.remove()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "panel.backup")])
    finally:
        stop.set()
        writer.join()
    assert result.exit_code == 0, result.output
    assert "Backup written" in result.output

    elsewhere = migrated_app(f"sqlite:///{tmp_path / 'elsewhere.db'}")
    restored = elsewhere.test_cli_runner().invoke(args=["restore", "--yes", str(tmp_path / "panel.backup")])
    assert restored.exit_code == 0, restored.output
    copy = contents(elsewhere)
    assert copy["customers"][:30] == [f"Backup Co {i}" for i in range(30)]
    assert len(copy["contacts"]) == 30 and len(copy["audit"]) >= 60
    # A snapshot: everything the copy holds is the start of what the live panel holds.
    live = contents(app)
    assert live["audit"][:len(copy["audit"])] == copy["audit"]


def test_restore_refuses_a_file_that_is_not_a_panel_backup(sqlite_app, tmp_path):
    app = sqlite_app
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a database at all" * 100)
    result = app.test_cli_runner().invoke(args=["restore", "--yes", str(junk)])
    assert result.exit_code != 0 and "not an SQLite database" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) >= 0  # the live one still works


@pytest.mark.postgres
def test_a_postgresql_panel_is_backed_up_with_pg_dump_and_restored_with_pg_restore(pg_app, postgres, tmp_path):
    fill(pg_app)
    result = pg_app.test_cli_runner().invoke(args=["backup", str(tmp_path / "panel.dump")])
    assert result.exit_code == 0, result.output
    from panel import create_app
    from tests.helpers import app_config

    elsewhere = create_app(app_config(postgres.create()))  # an empty database: pg_restore builds it all
    restored = elsewhere.test_cli_runner().invoke(args=["restore", "--yes", str(tmp_path / "panel.dump")])
    assert restored.exit_code == 0, restored.output
    assert contents(elsewhere) == contents(pg_app)
