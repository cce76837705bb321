"""Several workers, and a worker killed half-way, on PostgreSQL: every due change is applied exactly once."""
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.audit.models import AuditEntry
from panel.contacts.models import Contact
from panel.contacts.records import create_contact
from panel.delayed import changes
from panel.delayed.models import PendingChange
from panel.extensions import db
from panel.types import utcnow
from tests.helpers import wait_until

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]


def worker_env(app, tmp_path):
    return {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": "test",
            "PANEL_INSTANCE_PATH": str(tmp_path), "BCRYPT_ROUNDS": "4"}


def due_changes(app, customer, n):
    with app.app_context():
        ids = []
        for i in range(n):
            contact, _ = create_contact(SYSTEM, customer, {"name": f"C{i}", "email": f"c{i}@acme.example"}, password="long enough pw")
            db.session.flush()
            ids.append(contact.id)
        db.session.commit()
        for contact_id in ids:
            changes.schedule_update(SYSTEM, "contact", db.session.get(Contact, contact_id), {"phone": "555"}, utcnow() - timedelta(seconds=1))
            unit_of_work.commit()
        db.session.remove()
    return ids


def applied_once(app, ids):
    with app.app_context():
        statuses = db.session.scalars(sa.select(PendingChange.status)).all()
        updates = db.session.execute(
            sa.select(AuditEntry.row_id, sa.func.count()).where(AuditEntry.table_name == "contact", AuditEntry.message == "Update")
            .group_by(AuditEntry.row_id)
        ).all()
        db.session.remove()
    assert statuses == ["applied"] * len(ids)
    assert sorted(int(row_id) for row_id, _ in updates) == sorted(ids)
    assert all(count == 1 for _, count in updates)


@pytest.fixture
def pg_customer(pg_app):
    from panel.customers.accounts import create_customer

    with pg_app.app_context():
        customer_id = create_customer(SYSTEM, {"name": "Acme"}, "USD").id
        unit_of_work.commit()
        db.session.remove()
    return customer_id


def test_four_worker_processes_apply_each_due_change_exactly_once(pg_app, pg_customer, tmp_path):
    ids = due_changes(pg_app, pg_customer, 120)
    env = worker_env(pg_app, tmp_path)
    workers = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--once"], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(4)]
    outputs = [w.communicate(timeout=120)[0].decode() for w in workers]
    assert all(w.returncode == 0 for w in workers), outputs
    applied_once(pg_app, ids)


CHILD = """
import sys, time
from panel import create_app
from panel.delayed import changes
app = create_app()
target = changes.TARGETS["contact"]
original = target.apply_update
def slow(actor, row, values):
    original(actor, row, values)
    print("applying", flush=True)
    time.sleep(60)
target.apply_update = slow
with app.app_context():
    changes.apply_next("doomed worker")
"""


def test_a_worker_killed_while_applying_leaves_the_change_for_the_next_one(pg_app, pg_customer, tmp_path):
    ids = due_changes(pg_app, pg_customer, 1)
    env = worker_env(pg_app, tmp_path)
    doomed = subprocess.Popen([sys.executable, "-c", CHILD], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert doomed.stdout.readline().decode().strip() == "applying"  # it holds the claim and has written the change
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    doomed.stdout.close()
    with pg_app.app_context():
        assert db.session.scalar(sa.select(PendingChange.status)) == "pending"
        assert db.session.get(Contact, ids[0]).phone == ""
        db.session.remove()
    started = time.monotonic()
    restarted = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--once"], cwd=ROOT, env=env,
                               capture_output=True, timeout=60)
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    assert time.monotonic() - started < 30
    applied_once(pg_app, ids)


def many_due_changes(app, customer, n):
    """n contacts, each with a due change of its phone: the rows schedule_update writes (see due_changes),
    added in one transaction, as a thousand commits would take longer than the test itself."""
    with app.app_context():
        contacts = [create_contact(SYSTEM, customer, {"name": f"C{i}", "email": f"c{i}@acme.example"}, password_hash="unused")[0]
                    for i in range(n)]
        db.session.flush()
        due = utcnow() - timedelta(seconds=1)
        db.session.add_all(PendingChange(kind="update", table_name="contact", row_id=c.id, customer_id=customer,
                                         changes='{"phone": "555"}', base='{"phone": ""}', run_at=due,
                                         requested_by="system") for c in contacts)
        db.session.commit()
        ids = [c.id for c in contacts]
        db.session.remove()
    return ids


def count_applied(app) -> int:
    with app.app_context():
        done = db.session.scalar(sa.select(sa.func.count()).select_from(PendingChange).where(PendingChange.status == "applied"))
        db.session.remove()
    return done


def wait_for_applied(app, at_least: int, process, timeout: float) -> int:
    def applied() -> int:
        done = count_applied(app)
        if done >= at_least:
            return done
        assert process.poll() is None, process.stdout.read().decode()
        return 0

    return wait_until(applied, timeout, message=f"{at_least} changes applied")


def test_a_worker_killed_while_1000_saves_fall_due_leaves_each_applied_exactly_once_after_a_restart(
        pg_app, pg_customer, tmp_path):
    ids = many_due_changes(pg_app, pg_customer, 1000)
    env = worker_env(pg_app, tmp_path)
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--interval", "0.2"]
    doomed = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wait_for_applied(pg_app, 200, doomed, timeout=60)
    doomed.send_signal(signal.SIGKILL)  # mid-stream: almost surely inside one change's transaction
    doomed.wait(timeout=10)
    doomed.stdout.close()
    with pg_app.app_context():
        # What the killed worker left: each change is applied with its contact's phone, or pending without.
        state = db.session.execute(
            sa.select(PendingChange.status, Contact.phone).join(Contact, Contact.id == PendingChange.row_id)
        ).all()
        db.session.remove()
    assert {(status, phone) for status, phone in state} == {("applied", "555"), ("pending", "")}
    assert 200 <= sum(status == "applied" for status, _ in state) < 1000

    restarted = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for_applied(pg_app, 1000, restarted, timeout=60)
    finally:
        restarted.send_signal(signal.SIGTERM)  # a clean stop after the pass it is in
        output = restarted.communicate(timeout=30)[0].decode()
    assert restarted.returncode == 0 and "worker stopped" in output, output
    applied_once(pg_app, ids)
