"""A password reset while the mail server is down: the staff user is told, the message waits in the outbox
and the worker retries it, and the new password takes effect only when its e-mail is delivered; until then
the old one keeps working. The password is never in a log, the audit log or the response."""
import html
import logging
from datetime import timedelta

import pytest
import sqlalchemy as sa

from panel.actor import SYSTEM
from panel.audit.models import AuditEntry
from panel.contacts.models import Contact
from panel.contacts.records import reset_password
from panel.extensions import db
from panel.mail.models import MailMessage
from panel.mail.outbox import MAX_ATTEMPTS, deliver
from panel.types import utcnow
from panel.worker import run_pass
from tests.factories import ContactFactory
from tests.helpers import PanelClient, free_port, temporary_password
from tests.mail.test_outbox import SmtpServer, text_of

OLD = "the old password 1"
NOT_SENT = ("The e-mail could not be sent yet; it will be retried. "
            "The contact's password changes when it is delivered.")


@pytest.fixture
def mail_down(app, monkeypatch):
    """The SMTP server's port, with nothing listening on it yet."""
    port = free_port()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    return port


@pytest.fixture
def contact(app, customer):
    with app.app_context():
        return ContactFactory(customer_id=customer, name="Ana Almeida", email="ana@acme.example", password=OLD).id


def portal_sign_in(app, password: str) -> int:
    client = PanelClient(app.test_client())
    return client.post("/portal/login", {"email": "ana@acme.example", "password": password}).status_code


def password_in(body: str) -> str:
    return temporary_password(body)


def queued_password(app, message_id: int) -> str:
    """What the queued e-mail will carry (the test reads the outbox; nothing shows it to a person)."""
    with app.app_context():
        return password_in(db.session.get(MailMessage, message_id).body)


def make_due(app) -> None:
    with app.app_context():
        for message in db.session.scalars(sa.select(MailMessage).where(MailMessage.status == "queued")):
            message.next_attempt_at = utcnow() - timedelta(seconds=1)
        db.session.commit()


def test_reset_while_the_mail_server_is_down_keeps_the_old_password_until_the_mail_is_delivered(
        app, as_role, customer, contact, mail_down, caplog):
    caplog.set_level(logging.DEBUG)
    response = as_role("staff").post(f"/customers/{customer}/contacts/{contact}/password", {"auto_password": "y"},
                                     htmx=True)
    body = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert NOT_SENT in body and "Password changed" not in body
    with app.app_context():
        message = db.session.scalar(sa.select(MailMessage))
        assert (message.status, message.attempts, message.sensitive) == ("queued", 1, True)
        c = db.session.get(Contact, contact)
        assert c.pending_password_mail_id == message.id and c.pending_password_hash
        assert not c.must_change_password and c.password_expires_at is None
        number = message.id
    new = queued_password(app, number)
    assert new not in body

    assert portal_sign_in(app, OLD) == 303  # the old password still works
    assert portal_sign_in(app, new) == 401  # the new one does not, yet

    with SmtpServer(mail_down) as server, app.app_context():
        make_due(app)
        assert run_pass()["mail"] == "1 sent, 0 failed"  # one pass of the worker
        ((_, rcpt_tos, parsed),) = server.received()
    assert rcpt_tos == ["ana@acme.example"] and password_in(text_of(parsed)) == new

    assert portal_sign_in(app, OLD) == 401
    assert portal_sign_in(app, new) == 303  # and the portal now asks for a password of the contact's own
    with app.app_context():
        c = db.session.get(Contact, contact)
        assert (c.pending_password_hash, c.pending_password_mail_id) == (None, None)
        assert c.must_change_password
        assert timedelta(hours=23, minutes=59) < c.password_expires_at - utcnow() <= timedelta(hours=24)
        message = db.session.get(MailMessage, number)
        assert (message.status, message.attempts, message.body) == ("sent", 2, None)
        entries = db.session.scalars(sa.select(AuditEntry.data)).all()
        assert not any(new in data or OLD in data for data in entries)
        assert any('"pending_password_hash": [null, "[secret]"]' in data for data in entries)
    ours = " ".join(r.getMessage() for r in caplog.records if r.name != "mail.log")  # not the test's SMTP server
    assert new not in ours and OLD not in ours
    assert any("attempt 1 failed" in r.getMessage() for r in caplog.records)


def test_a_second_reset_before_the_first_mail_went_out_withdraws_it(app, customer, contact, mail_down):
    with app.app_context():
        first = reset_password(SYSTEM, db.session.get(Contact, contact))
        db.session.commit()
        first_id = first.id
        assert deliver([first_id]).failed == 1
        second = reset_password(SYSTEM, db.session.get(Contact, contact))
        db.session.commit()
        second_id = second.id
        withdrawn = db.session.get(MailMessage, first_id)
        assert (withdrawn.status, withdrawn.body) == ("failed", None)  # never sent, its password erased
        assert withdrawn.last_error.startswith("Withdrawn")
    new = queued_password(app, second_id)
    with SmtpServer(mail_down) as server, app.app_context():
        make_due(app)
        assert deliver().sent == 1
        ((_, _, parsed),) = server.received()
    assert password_in(text_of(parsed)) == new
    assert portal_sign_in(app, new) == 303


def test_a_password_typed_while_a_reset_waits_wins_and_the_waiting_mail_is_withdrawn(
        app, as_role, customer, contact, mail_down):
    client = as_role("staff")
    client.post(f"/customers/{customer}/contacts/{contact}/password", {"auto_password": "y"}, htmx=True)
    typed = client.post(f"/customers/{customer}/contacts/{contact}/password", {"password": "typed by staff 22"},
                        htmx=True)
    assert typed.status_code == 200 and "Password changed." in typed.get_data(as_text=True)
    with SmtpServer(mail_down) as server, app.app_context():
        make_due(app)
        assert deliver().sent == 0
        assert server.received() == []
        assert db.session.scalar(sa.select(MailMessage.status)) == "failed"
    assert portal_sign_in(app, "typed by staff 22") == 303
    assert portal_sign_in(app, OLD) == 401


def test_a_reset_mail_that_fails_for_good_leaves_the_old_password(app, customer, contact, mail_down):
    with app.app_context():
        message = reset_password(SYSTEM, db.session.get(Contact, contact))
        db.session.commit()
        number = message.id
        message.attempts = MAX_ATTEMPTS - 1
        db.session.commit()
        assert deliver([number]).failed == 1
        row = db.session.get(MailMessage, number)
        assert (row.status, row.body) == ("failed", None)
        c = db.session.get(Contact, contact)
        assert (c.pending_password_hash, c.pending_password_mail_id) == (None, None)
    assert portal_sign_in(app, OLD) == 303


def test_with_the_mail_server_up_the_reset_takes_effect_at_once(app, as_role, customer, contact, mail_down):
    with SmtpServer(mail_down) as server:
        response = as_role("staff").post(f"/customers/{customer}/contacts/{contact}/password",
                                         {"auto_password": "y"}, htmx=True)
        ((_, _, parsed),) = server.received()
    assert "Password changed. An e-mail with a temporary password was sent to ana@acme.example." in \
        response.get_data(as_text=True)
    assert portal_sign_in(app, password_in(text_of(parsed))) == 303
    assert portal_sign_in(app, OLD) == 401
