"""The mail queue: queued with the change that causes it, delivered after the commit (SMTP or
.eml files), retried with backoff while the server is down, never sent twice, even by several
workers at once."""
import ast
import email
import email.policy
import logging
import stat
import threading
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from panel import unit_of_work
from panel.customers.models import Customer
from panel.extensions import db
from panel.mail import outbox
from panel.mail.models import MailMessage
from panel.mail.outbox import (
    MAX_ATTEMPTS,
    DeliveryReport,
    backoff,
    deliver,
    deliver_after_commit,
    deliver_job,
    queue_mail,
)
from panel.types import utcnow
from tests.helpers import free_port

SECRET = "Your temporary password is Kx7-pQ2-zz9"


class Collector:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.handler = Collector()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()

    def received(self):
        return [(e.mail_from, e.rcpt_tos, email.message_from_bytes(e.original_content, policy=email.policy.default))
                for e in self.handler.envelopes]


def text_of(parsed) -> str:
    return parsed.get_content().replace("\r\n", "\n")


@pytest.fixture
def outbox_mode(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    return Path(app.instance_path) / "outbox"


def smtp_to(app, monkeypatch, port: int) -> None:
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)


def rows():
    db.session.expire_all()
    return db.session.scalars(sa.select(MailMessage).order_by(MailMessage.id)).all()


def eml_files(outbox: Path) -> list[Path]:
    return sorted(outbox.glob("*.eml")) if outbox.exists() else []


def queue_and_commit(*args, **kwargs) -> int:
    message = queue_mail(*args, **kwargs)
    db.session.commit()
    return message.id


def test_mail_is_queued_in_the_transaction_of_the_change(app, outbox_mode):
    with app.app_context():
        db.session.add(Customer(name="Rolled back", currency="USD"))
        queue_mail("new@example.com", "Welcome", "Hello")
        db.session.rollback()
        assert rows() == []
        assert deliver() == DeliveryReport(sent=0, failed=0, errors=[])
        assert eml_files(outbox_mode) == []

        db.session.add(Customer(name="Committed", currency="USD"))
        queue_mail("new@example.com", "Welcome", "Hello")
        db.session.commit()
        (row,) = rows()
        assert (row.to_addr, row.subject, row.body, row.status, row.attempts) == (
            "new@example.com", "Welcome", "Hello", "queued", 0)
        assert row.sent_at is None and row.last_error is None
        assert row.next_attempt_at <= utcnow()


def test_deliver_refuses_to_commit_a_change_still_pending(app, outbox_mode):
    with app.app_context():
        queue_mail("new@example.com", "Welcome", "Hello")
        with pytest.raises(RuntimeError, match="commit"):
            deliver()
        db.session.rollback()
        assert rows() == []


@pytest.mark.parametrize("to_addr, subject", [
    ("not-an-address", "Welcome"),
    ("a@example.com\nBcc: b@example.com", "Welcome"),
    ("a@example.com", "Welcome\nBcc: b@example.com"),
    ("a@example.com", "x" * 201),
])
def test_an_address_or_subject_that_would_break_the_headers_is_refused(app, to_addr, subject):
    with app.app_context():
        with pytest.raises(ValueError):
            queue_mail(to_addr, subject, "Hello")
        assert not db.session.new


def test_without_a_mail_server_each_message_is_an_eml_file_readable_by_the_owner_only(app, outbox_mode):
    with app.app_context():
        first = queue_and_commit("ann@example.com", "Welcome to the panel", "Hello Ann,\nwelcome.")
        assert deliver([first]) == DeliveryReport(sent=1, failed=0, errors=[])
        (path,) = eml_files(outbox_mode)
        assert path.name.startswith(f"{first}-")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert parsed["To"] == "ann@example.com"
        assert parsed["From"] == app.config["MAIL_FROM"]
        assert parsed["Subject"] == "Welcome to the panel"
        assert parsed["Date"] and parsed["Message-ID"]
        assert parsed.get_content() == "Hello Ann,\nwelcome.\n"
        (row,) = rows()
        assert (row.status, row.attempts, row.body) == ("sent", 1, "Hello Ann,\nwelcome.")
        assert row.sent_at is not None
        assert not list(outbox_mode.glob(".*"))  # no temporary file left behind


def test_a_sensitive_body_is_erased_once_delivered_and_the_rest_kept(app, outbox_mode):
    with app.app_context():
        number = queue_and_commit("bob@example.com", "Your new password", SECRET, sensitive=True)
        assert deliver().sent == 1
        (path,) = eml_files(outbox_mode)
        assert SECRET in email.message_from_bytes(path.read_bytes(), policy=email.policy.default).get_content()
        (row,) = rows()
        assert row.id == number
        assert row.body is None
        assert (row.to_addr, row.subject, row.status, row.sensitive) == (
            "bob@example.com", "Your new password", "sent", True)
        assert row.sent_at is not None and row.created_at is not None


def test_delivery_over_smtp(app, monkeypatch):
    with SmtpServer() as server, app.app_context():
        smtp_to(app, monkeypatch, server.port)
        queue_and_commit("carol@example.com", "Welcome", "Hello Carol,\nyour account is ready.")
        assert deliver() == DeliveryReport(sent=1, failed=0, errors=[])
        ((mail_from, rcpt_tos, parsed),) = server.received()
        assert mail_from == app.config["MAIL_FROM"]
        assert rcpt_tos == ["carol@example.com"]
        assert parsed["To"] == "carol@example.com"
        assert parsed["Subject"] == "Welcome"
        assert text_of(parsed) == "Hello Carol,\nyour account is ready.\n"
        assert rows()[0].status == "sent"
        assert not (Path(app.instance_path) / "outbox").exists()


def test_only_the_given_messages_are_delivered(app, outbox_mode):
    with app.app_context():
        first = queue_and_commit("a@example.com", "One", "1")
        second = queue_and_commit("b@example.com", "Two", "2")
        assert deliver([second]).sent == 1
        assert {r.id: r.status for r in rows()} == {first: "queued", second: "sent"}
        assert deliver([first, second]).sent == 1
        assert {r.status for r in rows()} == {"sent"}


def test_server_down_the_message_waits_and_is_sent_once_when_it_is_back(app, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG, logger="panel")
    port = free_port()  # nothing listens here yet
    smtp_to(app, monkeypatch, port)
    with app.app_context():
        number = queue_and_commit("dan@example.com", "Your new password", SECRET, sensitive=True)
        before = utcnow()
        report = deliver([number])
        assert (report.sent, report.failed, len(report.errors)) == (0, 1, 1)
        (row,) = rows()
        assert (row.status, row.attempts, row.body, row.sent_at) == ("queued", 1, SECRET, None)
        assert row.last_error and len(row.last_error) <= 300
        assert before + timedelta(seconds=50) < row.next_attempt_at <= utcnow() + timedelta(minutes=1)

        assert deliver() == DeliveryReport()  # not due yet: nothing tried, nothing counted
        assert rows()[0].attempts == 1

        with SmtpServer(port) as server:
            row.next_attempt_at = utcnow() - timedelta(seconds=1)
            db.session.commit()
            assert deliver() == DeliveryReport(sent=1)
            assert deliver() == DeliveryReport()
            assert deliver([number]) == DeliveryReport()
            ((_, rcpt_tos, parsed),) = server.received()
        assert rcpt_tos == ["dan@example.com"]
        assert SECRET in text_of(parsed)
        (row,) = rows()
        assert (row.status, row.attempts, row.body) == ("sent", 2, None)
        ours = [r for r in caplog.records if r.name.startswith("panel")]
        assert any("failed" in r.getMessage() for r in ours) and any("sent" in r.getMessage() for r in ours)
        assert not any(SECRET in r.getMessage() for r in ours)
        assert SECRET not in " ".join(report.errors)


def test_a_second_deliver_never_resends_a_sent_message(app, outbox_mode):
    with app.app_context():
        queue_and_commit("a@example.com", "One", "1")
        assert deliver_job() == "1 sent, 0 failed"
        assert deliver_job() is None
        assert deliver().sent == 0
        assert len(eml_files(outbox_mode)) == 1


def test_backoff_doubles_up_to_an_hour():
    assert [backoff(n) for n in (1, 2, 3, 4, 5, 6, 7, 8, 20)] == [
        timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60, 60, 60)]


def test_after_the_last_attempt_the_message_fails_and_a_sensitive_body_is_erased(app, monkeypatch):
    smtp_to(app, monkeypatch, free_port())
    with app.app_context():
        number = queue_and_commit("eve@example.com", "Your new password", SECRET, sensitive=True)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            started = utcnow()
            assert deliver_job() == "0 sent, 1 failed"
            row = db.session.get(MailMessage, number)
            assert row.attempts == attempt
            if attempt < MAX_ATTEMPTS:
                assert row.status == "queued"
                wait = row.next_attempt_at - started
                assert backoff(attempt) <= wait <= backoff(attempt) + timedelta(seconds=30)
                row.next_attempt_at = utcnow() - timedelta(seconds=1)
                db.session.commit()
        (row,) = rows()
        assert (row.status, row.attempts, row.body, row.sent_at) == ("failed", MAX_ATTEMPTS, None, None)
        assert row.last_error
        row.next_attempt_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert deliver_job() is None


def _deliver_concurrently(app, threads: int) -> list[DeliveryReport]:
    reports, errors = [], []
    barrier = threading.Barrier(threads)

    def work():
        try:
            with app.app_context():
                try:
                    barrier.wait()
                    reports.append(deliver())
                finally:
                    db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    assert errors == []
    return reports


def _check_no_message_twice(app, outbox: Path, count: int, reports: list[DeliveryReport]) -> None:
    files = eml_files(outbox)
    assert len(files) == count
    assert len({f.name.split("-", 1)[0] for f in files}) == count
    assert sum(r.sent for r in reports) == count and sum(r.failed for r in reports) == 0
    with app.app_context():
        assert [(r.status, r.attempts) for r in rows()] == [("sent", 1)] * count


def _slow_down_writes(monkeypatch):
    """Each delivery takes a little while, so the workers overlap."""
    import time

    from panel.mail import outbox

    write = outbox._write_outbox_file

    def slow_write(*args, **kwargs):
        time.sleep(0.01)
        return write(*args, **kwargs)

    monkeypatch.setattr(outbox, "_write_outbox_file", slow_write)


def test_several_workers_never_send_a_message_twice(app, outbox_mode, monkeypatch):
    _slow_down_writes(monkeypatch)
    with app.app_context():
        for n in range(30):
            queue_mail(f"user{n}@example.com", f"Message {n}", f"Body {n}")
        db.session.commit()
    _check_no_message_twice(app, outbox_mode, 30, _deliver_concurrently(app, 4))


@pytest.mark.postgres
def test_several_workers_never_send_a_message_twice_on_postgresql(pg_app, tmp_path, monkeypatch):
    monkeypatch.setattr(pg_app, "instance_path", str(tmp_path / "instance"))
    monkeypatch.setitem(pg_app.config, "MAIL_SERVER", "")
    _slow_down_writes(monkeypatch)
    with pg_app.app_context():
        for n in range(30):
            queue_mail(f"user{n}@example.com", f"Message {n}", f"Body {n}")
        db.session.commit()
    reports = _deliver_concurrently(pg_app, 4)
    _check_no_message_twice(pg_app, tmp_path / "instance" / "outbox", 30, reports)


def test_the_outbox_knows_nothing_of_contacts_it_calls_the_hooks_registered_for_sensitive_mail(app, outbox_mode,
                                                                                              monkeypatch):
    source = Path(outbox.__file__).read_text()
    modules = {node.module for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ImportFrom)}
    assert not any(m and m.startswith("panel.contacts") for m in modules)
    seen = []
    monkeypatch.setattr(outbox, "SENT_HOOKS", [lambda number: seen.append(("sent", number))])
    with app.app_context():
        number = queue_and_commit("bob@example.com", "Your new password", SECRET, sensitive=True)
        plain = queue_and_commit("ann@example.com", "Hello", "no secret")
        assert deliver().sent == 2
    assert seen == [("sent", number)] and plain != number


def test_mail_queued_for_delivery_after_commit_goes_only_if_the_change_commits(app, outbox_mode):
    with app.app_context():
        with pytest.raises(ZeroDivisionError), unit_of_work.unit():
            deliver_after_commit(queue_mail("gone@example.com", "Never", "rolled back"))
            1 / 0
        with unit_of_work.unit():
            message = queue_mail("kept@example.com", "Welcome", "Hello")
            deliver_after_commit(message)
        assert db.session.scalars(sa.select(MailMessage.to_addr)).all() == ["kept@example.com"]
        assert message.status == "sent"
