"""What depends on the database itself: migrations, the audit entry in the change's transaction,
and a single-line hash chain under concurrent writers, on PostgreSQL (and SQLite where it applies)."""
import re
import threading

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from panel import unit_of_work
from panel.actor import SYSTEM
from panel import create_app
from panel.audit.chain import verify_chain
from panel.audit.models import AuditEntry
from panel.customers.accounts import create_customer
from panel.customers.models import Customer
from panel.extensions import db
from tests.helpers import app_config

pytestmark = pytest.mark.postgres


def test_migrations_upgrade_downgrade_and_upgrade_again_on_postgresql(postgres):
    app = create_app(app_config(postgres.create()))
    with app.app_context():
        upgrade()
        inspector = sa.inspect(db.engine)
        assert {"customer", "contact", "audit_entry", "staff_user", "ledger_entry"} <= set(inspector.get_table_names())
        indexes = {i["name"] for i in inspector.get_indexes("customer")}
        assert {"ix_customer_name_trgm", "ix_customer_status_name_id"} <= indexes
        downgrade(revision="base")
        assert "customer" not in sa.inspect(db.engine).get_table_names()
        upgrade()
        db.engine.dispose()


# Made by the migration on PostgreSQL only (trigram search, the address words' tables), or not reflectable (an
# expression index).
NOT_IN_MODELS = ("ix_contact_phone_trgm", "ix_contact_mobile_trgm", "ix_customer_name_trgm", "ix_contact_name_trgm",
                 "ix_contact_email_trgm", "uq_contact_email_lower", "ix_contact_name_name_trgm", "ix_deployment_name_trgm", "ix_deployment_number_trgm",
                 "ix_contact_email_domain", "ix_contact_phone_grams", "ix_contact_email_prefix", "email_word",
                 "ix_payment_reference_lower")


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_models_and_migrations_describe_the_same_schema(backend, pg_app, app):
    target = pg_app if backend == "postgresql" else app
    with target.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": _not_a_partition})
        diff = compare_metadata(context, db.metadata)
    left = [d for d in diff if not any(name in str(d) for name in NOT_IN_MODELS) and not _made_elsewhere(d, connection.dialect.name)]
    if backend == "sqlite":
        # SQLite keeps no name for a reference added by ALTER TABLE ADD COLUMN (customer.reseller_id):
        # the same reference then shows as removed without a name and added with one.
        left = [d for d in left if d[0] not in ("remove_fk", "add_fk") or _fk_columns(d[1]) != ["reseller_id"]]
    assert left == []


def _not_a_partition(name, type_, parent_names) -> bool:
    """call_record's monthly partitions (and its default one) on PostgreSQL: call_record stands for them."""
    return not (type_ == "table" and re.fullmatch(r"call_record_(\d{4}_\d{2}|default)", name or ""))


def _made_elsewhere(difference, backend: str) -> bool:
    """A model's constraint made on the other database only (`.ddl_if(dialect=...)`: call_record's
    dedup key, which holds start_time on partitioned PostgreSQL), which autogenerate does not know."""
    if difference[0] != "add_constraint":
        return False
    elsewhere = {constraint.name for table in db.metadata.tables.values() for constraint in table.constraints
                 if constraint._ddl_if is not None and constraint._ddl_if.dialect not in (None, backend)}
    assert elsewhere, "call_record's dedup keys are made per database"
    return difference[1].name in elsewhere


def _fk_columns(constraint) -> list[str]:
    return [column.name for column in constraint.columns]


def test_audit_entry_is_in_the_same_transaction_on_postgresql(pg_app):
    with pg_app.app_context():
        db.session.add(Customer(name="Rolled back", currency="USD"))
        db.session.flush()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 1
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 0


def test_a_failed_audit_write_rolls_back_the_change(pg_app, monkeypatch):
    from panel.audit import recorder

    def broken_append(connection, entries):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(recorder, "_append", broken_append)
    with pg_app.app_context():
        with pytest.raises(RuntimeError):
            create_customer(SYSTEM, {"name": "Unaudited"}, "USD")
            unit_of_work.commit()
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 0


def _concurrent_writes(app, threads=8, each=10):
    errors = []
    barrier = threading.Barrier(threads)

    def work(n):
        try:
            with app.app_context():
                barrier.wait()
                for i in range(each):
                    c = create_customer(SYSTEM, {"name": f"Writer {n}-{i}"}, "USD")
                    unit_of_work.commit()
                    c.status = "Active"
                    db.session.commit()
                db.session.remove()
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    with app.app_context():
        with db.engine.connect() as connection:
            report = verify_chain(connection)
        prev_hashes = db.session.scalars(sa.select(AuditEntry.prev_hash)).all()
        db.session.remove()
    assert report.intact, report
    assert report.checked == threads * each * 2
    assert len(set(prev_hashes)) == len(prev_hashes)  # no fork: every entry has its own predecessor


def test_the_chain_stays_one_line_under_concurrent_writers_on_postgresql(pg_app):
    _concurrent_writes(pg_app)


def test_the_chain_stays_one_line_under_concurrent_writers_on_sqlite(app):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _concurrent_writes(app, threads=4, each=5)
    else:
        _concurrent_writes(app)
