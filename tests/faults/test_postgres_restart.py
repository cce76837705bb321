"""The machine's PostgreSQL server itself restarts (pg_ctlcluster … restart, not only its connections) while
staff are signed in and writing through gunicorn: requests during the restart answer 503 with Retry-After
(never another 5xx, never a traceback), the panel recovers without being restarted, no acknowledged write is
lost, each is audited once, and the chain is intact.

It needs the server's own cluster tools (Debian's postgresql-common) and the rights to use them: a machine
without them fails this test, it does not skip it."""
import json
import shutil
import subprocess
import threading
import time
from collections import Counter

import pytest
import sqlalchemy as sa

from panel import unit_of_work
from panel.extensions import db
from tests.load.forms import form_fields
from tests.load.harness import Browser, Gunicorn

pytestmark = pytest.mark.postgres
PASSWORD = "restart test password 123"
USERS = 6


def cluster() -> tuple[str, str]:
    """(version, name) of the cluster listening on 5432."""
    if not shutil.which("pg_lsclusters") or not shutil.which("pg_ctlcluster"):
        pytest.fail("pg_lsclusters / pg_ctlcluster (postgresql-common) are needed to restart the server", pytrace=False)
    for line in subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=True).stdout.splitlines():
        version, name, port, *_ = line.split()
        if port == "5432":
            return version, name
    pytest.fail("no PostgreSQL cluster listens on port 5432", pytrace=False)


class Writer(threading.Thread):
    """One signed-in staff user editing a customer's address line, again and again, until told to stop."""

    def __init__(self, port: int, email: str, customer_id: int, serial):
        super().__init__(daemon=True)
        self.port, self.email, self.customer_id, self.serial = port, email, customer_id, serial
        self.acknowledged: list[str] = []
        self.statuses: Counter = Counter()
        self.unavailable_without_retry_after = 0
        self.stop = threading.Event()

    def run(self):
        browser = Browser(self.port, timeout=30)
        browser.sign_in(self.email, PASSWORD)
        while not self.stop.is_set():
            try:
                page = browser.get(f"/customers/{self.customer_id}/edit")
                self.statuses[page.status] += 1
                if page.status != 200:
                    if page.status == 503 and not page.header("Retry-After"):
                        self.unavailable_without_retry_after += 1
                    time.sleep(0.2)
                    continue
                line = f"Restart {next(self.serial)}"
                fields = form_fields(page.text, 'class="card form-grid"')
                fields.update(address_line2=line, save_action="continue")
                response = browser.post(f"/customers/{self.customer_id}/edit", fields)
                self.statuses[response.status] += 1
                if response.status == 303:
                    self.acknowledged.append(line)
                elif response.status == 503 and not response.header("Retry-After"):
                    self.unavailable_without_retry_after += 1
            except OSError:
                self.statuses["connection error"] += 1  # counted: gunicorn must not drop connections
                time.sleep(0.2)
            time.sleep(0.05)
        browser.close()


def test_a_real_restart_answers_503_then_recovers_with_every_acknowledged_write_kept(pg_app, postgres, tmp_path):
    from panel.audit.chain import verify_chain
    from panel.audit.models import AuditEntry
    from panel.customers.accounts import create_customer
    from panel.actor import SYSTEM
    from panel.options import set_option
    from panel.staff import create_staff_user
    from panel.twofactor.factors import REQUIRE_OPTION

    version, name = cluster()
    emails = [f"restart{i}@example.com" for i in range(USERS)]
    with pg_app.app_context():
        for email in emails:
            create_staff_user(email, PASSWORD, "staff")
        set_option(REQUIRE_OPTION, "nobody")
        customers = [create_customer(SYSTEM, {"name": f"Restart {i}"}, "USD") for i in range(3)]
        unit_of_work.commit()
        customer_ids = [c.id for c in customers]
        before = db.session.scalar(sa.select(sa.func.max(AuditEntry.id))) or 0
        url = pg_app.config["SQLALCHEMY_DATABASE_URI"]
        db.session.remove()
        db.engine.dispose()

    serial = iter(range(1, 10**9))
    with Gunicorn(url, str(tmp_path / "instance"), workers=2, threads=4) as server:
        writers = [Writer(server.port, email, customer_ids[i % 3], serial) for i, email in enumerate(emails)]
        for writer in writers:
            writer.start()
        time.sleep(3)
        restarted = subprocess.run(["pg_ctlcluster", version, name, "restart"], capture_output=True, text=True,
                                   timeout=120)
        postgres.reconnect()
        assert restarted.returncode == 0, restarted.stderr
        time.sleep(8)  # the writers go on through and after the restart
        for writer in writers:
            writer.stop.set()
        for writer in writers:
            writer.join(60)
        # The same gunicorn, never restarted, serves again.
        check = Browser(server.port)
        check.sign_in(emails[0], PASSWORD)
        assert check.get(f"/customers/{customer_ids[0]}").status == 200
        check.close()
        log = server.output()

    statuses = sum((writer.statuses for writer in writers), Counter())
    print(f"\nwrites and reads through a restart: {dict(statuses)}")
    assert set(statuses) <= {200, 303, 503}, (statuses, log)
    assert statuses[503] > 0, "no request met the restart: the test did not test anything"
    assert sum(w.unavailable_without_retry_after for w in writers) == 0
    assert "Traceback" not in log, log
    acknowledged = [line for writer in writers for line in writer.acknowledged]
    assert acknowledged

    with pg_app.app_context():
        entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.id > before)
                                     .where(AuditEntry.table_name == "customer")).all()
        with db.engine.connect() as connection:
            chain = verify_chain(connection)
        db.session.remove()
    written = Counter()
    for entry in entries:
        change = json.loads(entry.data).get("address_line2")
        if change:
            written[change[1]] += 1
    assert all(written[line] == 1 for line in acknowledged), [line for line in acknowledged if written[line] != 1][:5]
    assert chain.intact, chain
