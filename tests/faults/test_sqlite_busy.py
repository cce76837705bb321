"""SQLite with two writers: the second waits for the first (busy timeout); if the lock does not come in
time the user is told to try again (503, not a 500), and nothing of the request is written."""
import logging
import shutil
import sqlite3
import threading
import time

import pytest
import sqlalchemy as sa

from panel import create_app, unit_of_work
from panel.api.models import ApiToken
from panel.api.tokens import issue_token
from panel.audit.models import AuditEntry
from panel.contacts.models import Contact
from panel.extensions import db
from panel.mail.models import MailMessage
from panel.twofactor import factors
from panel.twofactor.models import TotpSecret
from tests.factories import ContactFactory, CustomerFactory, StaffUserFactory
from tests.helpers import PanelClient, app_config

BUSY = "The database is busy with another change; nothing was saved. Try again in a moment."
NEW_CONTACT = {"name": "Ines Ito", "email": "ines@acme.example", "contact_type": "Billing", "auto_password": "y"}


class Setup:
    def __init__(self, app, path, customer_id, token):
        self.app, self.path, self.customer_id, self.token = app, path, customer_id, token
        self.client = PanelClient(app.test_client())

    def counts(self) -> tuple[int, int, int]:
        with self.app.app_context():
            counted = tuple(db.session.scalar(sa.select(sa.func.count()).select_from(model))
                            for model in (Contact, MailMessage, AuditEntry))
            db.session.remove()
        return counted

    def add_contact(self, htmx=True):
        return self.client.post(f"/customers/{self.customer_id}/contacts", NEW_CONTACT, htmx=htmx)


@pytest.fixture
def sqlite_with_timeout(sqlite_template, tmp_path, monkeypatch):
    """An app on its own SQLite file with the given busy timeout, a signed-in staff user, a customer and an
    API token; SQLite whatever --db says."""
    monkeypatch.setenv("PANEL_INSTANCE_PATH", str(tmp_path / "instance"))
    apps = []

    def make(timeout_ms: int) -> Setup:
        path = tmp_path / "panel.db"
        shutil.copy(sqlite_template, path)
        app = create_app({**app_config(f"sqlite:///{path}"), "SQLITE_BUSY_TIMEOUT_MS": timeout_ms})
        apps.append(app)
        with app.app_context():
            StaffUserFactory()
            customer_id = CustomerFactory(name="Acme Telecom", channel_limit=30).id
            token = issue_token("switch", ["channels"])
            db.session.commit()
            db.session.remove()
        setup = Setup(app, path, customer_id, token)
        assert setup.client.login("staff@example.com").status_code == 303
        setup.client.token()  # fetched now: the sign-in page is not what the test is about
        return setup

    yield make
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def hold_write_lock(path) -> sqlite3.Connection:
    """Another writer (a worker, a second panel process) in the middle of its transaction."""
    other = sqlite3.connect(path, isolation_level=None, timeout=0, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE customer SET phone = 'the other writer' WHERE id = (SELECT min(id) FROM customer)")
    return other


def test_a_writer_that_cannot_get_the_lock_in_time_is_told_to_try_again_and_nothing_is_written(
        sqlite_with_timeout, caplog):
    setup = sqlite_with_timeout(200)
    before = setup.counts()
    caplog.set_level(logging.WARNING)
    other = hold_write_lock(setup.path)
    try:
        started = time.monotonic()
        fragment = setup.add_contact(htmx=True)
        assert 0.15 < time.monotonic() - started < 5  # it waited for the busy timeout, then gave up
        assert fragment.status_code == 503 and fragment.headers["HX-Reswap"] == "none"
        assert fragment.headers["Retry-After"] == "5" and BUSY in fragment.get_data(as_text=True)

        page = setup.add_contact(htmx=False)
        assert page.status_code == 503 and BUSY in page.get_data(as_text=True)
        assert "<html" in page.get_data(as_text=True) and "Traceback" not in page.get_data(as_text=True)

        api = setup.client.client.put(f"/api/v1/customers/{setup.customer_id}/channels", json={"channels_in_use": 3},
                                      headers={"Authorization": f"Bearer {setup.token}"})
        assert api.status_code == 503 and api.json == {"error": "Temporarily unavailable", "message": BUSY}

        # Reading needs no write lock (WAL): the panel still shows its pages meanwhile.
        assert setup.client.get(f"/customers/{setup.customer_id}").status_code == 200
    finally:
        other.rollback()
        other.close()
    assert setup.counts() == before  # no contact, no mail, no audit entry: nothing half-written
    warnings = [r.getMessage() for r in caplog.records if r.name == "panel"]
    assert len(warnings) == 3 and all("database busy" in w for w in warnings)
    assert not any(r.exc_info for r in caplog.records)

    retried = setup.add_contact(htmx=True)
    assert retried.status_code == 200 and "Ines Ito" in retried.get_data(as_text=True)
    contacts, mails, entries = setup.counts()
    assert (contacts, mails) == (before[0] + 1, before[1] + 1) and entries > before[2]


def test_a_second_writer_waits_for_the_first_and_succeeds(sqlite_with_timeout):
    setup = sqlite_with_timeout(5000)
    before = setup.counts()
    other = hold_write_lock(setup.path)
    asking = threading.Event()  # the request has asked for the write lock, and waits for it

    def on_statement(connection, cursor, statement, *args):
        if statement == "BEGIN IMMEDIATE":
            asking.set()

    with setup.app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", on_statement)

    def finish_soon():
        assert asking.wait(10), "the request never asked for the write lock"
        time.sleep(0.5)  # the behaviour under test: the first writer keeps the lock half a second more
        other.commit()

    finisher = threading.Thread(target=finish_soon)
    finisher.start()
    try:
        started = time.monotonic()
        response = setup.add_contact(htmx=True)
        waited = time.monotonic() - started
    finally:
        finisher.join()
        other.close()
        sa.event.remove(engine, "before_cursor_execute", on_statement)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "Ines Ito" in response.get_data(as_text=True)
    assert 0.4 < waited < 5
    assert setup.counts()[:2] == (before[0] + 1, before[1] + 1)
    with setup.app.app_context():
        assert db.session.scalar(sa.text("SELECT phone FROM customer WHERE id = :id"), {"id": setup.customer_id}) \
            == "the other writer"  # both writers' work is there


def test_the_busy_timeout_is_configurable_and_15_seconds_by_default(app, sqlite_with_timeout):
    assert app.config["SQLITE_BUSY_TIMEOUT_MS"] == 15000
    setup = sqlite_with_timeout(1234)
    with setup.app.app_context():
        assert db.session.scalar(sa.text("PRAGMA busy_timeout")) == 1234


def test_a_read_over_the_api_is_answered_while_another_writer_holds_the_lock_its_last_use_is_skipped(
        sqlite_with_timeout):
    setup = sqlite_with_timeout(200)
    other = hold_write_lock(setup.path)
    try:
        read = setup.client.client.get(f"/api/v1/customers/{setup.customer_id}/channels",
                                       headers={"Authorization": f"Bearer {setup.token}"})
    finally:
        other.rollback()
        other.close()
    assert read.status_code == 200 and read.json["customer_id"] == setup.customer_id
    with setup.app.app_context():
        assert db.session.scalar(sa.select(ApiToken.last_used_at)) is None  # never at the cost of the read
        db.session.remove()
    again = setup.client.client.get(f"/api/v1/customers/{setup.customer_id}/channels",
                                    headers={"Authorization": f"Bearer {setup.token}"})
    assert again.status_code == 200
    with setup.app.app_context():
        assert db.session.scalar(sa.select(ApiToken.last_used_at)) is not None
        db.session.remove()


def _another_request_writes(path) -> None:
    other = sqlite3.connect(path, isolation_level=None, timeout=5)
    other.execute("UPDATE customer SET phone = 'another request' WHERE id = (SELECT min(id) FROM customer)")
    other.close()


def _read_then_write(app, path, contact_id, writer_first: bool) -> None:
    """The enrolment page: it reads (its snapshot begins), another request commits, then it keeps the secret."""
    with app.test_request_context("/portal/two-factor/setup", method="GET"):
        contact = db.session.get(Contact, contact_id)
        _another_request_writes(path)
        if writer_first:
            unit_of_work.writing()
        factors.pending_totp(contact)
        unit_of_work.commit()
        db.session.remove()


def test_a_page_that_writes_on_get_waits_its_turn_when_another_request_wrote_since_it_began(sqlite_with_timeout):
    # The two-factor enrolment page keeps the secret it shows; a portal home page saving its session in
    # the same moment once made it answer 503 ("database is locked", at once, whatever the busy timeout).
    setup = sqlite_with_timeout(2000)
    with setup.app.app_context():
        contact_id = ContactFactory(customer_id=setup.customer_id).id
        db.session.commit()
        db.session.remove()
    with pytest.raises(sa.exc.OperationalError, match="locked"):
        _read_then_write(setup.app, setup.path, contact_id, writer_first=False)
    _read_then_write(setup.app, setup.path, contact_id, writer_first=True)
    with setup.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TotpSecret)) == 1
        db.session.remove()
