"""The hash chain detects changed and removed entries; bulk writes are audited row by row."""
import ast
from pathlib import Path

import pytest
import sqlalchemy as sa

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.audit import bulk
from panel.audit.chain import verify_chain
from panel.audit.models import AuditEntry
from panel.audit.recorder import UnauditedBulkWrite, audited_tables
from panel.customers.accounts import create_customer
from panel.customers.models import Customer
from panel.extensions import db

PACKAGE = Path(__file__).resolve().parents[2] / "panel"


def make_customers(n):
    ids = [create_customer(SYSTEM, {"name": f"Bulk {i}", "status": "Pending Approval"}, "USD").id for i in range(n)]
    unit_of_work.commit()
    db.session.close()  # SQLite: end the session's transaction before other connections write
    return ids


def without_append_only_guard(connection):
    """What someone with direct database access could do: drop the guard first."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only"))
    else:
        connection.execute(sa.text("DROP TRIGGER audit_entry_no_update"))
        connection.execute(sa.text("DROP TRIGGER audit_entry_no_delete"))


def test_an_untouched_chain_verifies(app):
    with app.app_context():
        make_customers(5)
        with db.engine.connect() as connection:
            report = verify_chain(connection)
        assert report.intact and report.checked == 5


def test_a_changed_entry_is_detected(app):
    with app.app_context():
        make_customers(5)
        with db.engine.begin() as connection:
            without_append_only_guard(connection)
            connection.execute(sa.text("UPDATE audit_entry SET user_label = 'someone else' WHERE id = 3"))
        with db.engine.connect() as connection:
            report = verify_chain(connection)
        assert (report.intact, report.broken_at, report.checked) == (False, 3, 2)
        assert report.reason == "the entry itself was changed"


def test_a_removed_entry_is_detected(app):
    with app.app_context():
        make_customers(5)
        with db.engine.begin() as connection:
            without_append_only_guard(connection)
            connection.execute(sa.text("DELETE FROM audit_entry WHERE id = 2"))
        with db.engine.connect() as connection:
            report = verify_chain(connection)
        assert (report.intact, report.broken_at) == (False, 3)


def test_bulk_update_writes_one_entry_per_row(app):
    with app.app_context():
        ids = make_customers(7)
        changed = bulk.bulk_update(Customer, [Customer.status == "Pending Approval"], {"status": "Active"})
        db.session.commit()
        assert changed == 7
        updates = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.message == "Update")).all()
        assert sorted(int(e.row_id) for e in updates) == ids
        assert all(e.data == '{"status": ["Pending Approval", "Active"]}' for e in updates)


def test_bulk_delete_writes_one_entry_per_row(app):
    with app.app_context():
        make_customers(3)
        assert bulk.bulk_delete(Customer, [Customer.name.like("Bulk %")]) == 3
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.message == "Delete")) == 3


@pytest.mark.parametrize("statement", [
    lambda: sa.update(Customer).values(status="Active"),
    lambda: sa.delete(Customer),
    lambda: sa.update(Customer.__table__).values(status="Active"),
])
def test_a_bulk_write_that_bypasses_the_helper_is_refused(app, statement):
    with app.app_context():
        make_customers(2)
        with pytest.raises(UnauditedBulkWrite):
            db.session.execute(statement())
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 2


def _bulk_writes_in(tree, audited_names):
    """Calls like update(Customer), delete(Contact), X.query...update()/delete(), session.query(X).delete()."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name not in ("update", "delete"):
            continue
        target = node.args[0] if node.args else None
        target_name = getattr(target, "id", None) or getattr(target, "attr", None)
        if isinstance(target, ast.Attribute) and target.attr == "__table__":
            target_name = getattr(target.value, "id", None)
        if target_name in audited_names or isinstance(func, ast.Attribute) and "query" in ast.unparse(func.value):
            found.append((node.lineno, ast.unparse(node)))
    return found


def test_the_code_base_never_bulk_writes_an_audited_model_except_through_the_helper(app):
    from panel.extensions import db as database

    audited_names = {m.class_.__name__ for m in database.Model.registry.mappers
                     if m.class_.__tablename__ in audited_tables()}
    assert {"Customer", "Contact", "LedgerEntry", "StaffUser"} <= audited_names
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "bulk.py" or "migrations" in path.parts:
            continue
        for lineno, code in _bulk_writes_in(ast.parse(path.read_text()), audited_names):
            offenders.append(f"{path.relative_to(PACKAGE.parent)}:{lineno}: {code}")
    assert offenders == [], "use panel.audit.bulk for bulk writes to audited tables:\n" + "\n".join(offenders)


def test_the_scan_itself_catches_a_bulk_write():
    sample = "db.session.execute(sa.update(Customer).values(x=1))\nCustomer.query.filter_by(a=1).delete()\n"
    assert len(_bulk_writes_in(ast.parse(sample), {"Customer"})) == 2
