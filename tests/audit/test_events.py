"""Who came and went: sign-in, sign-out and failed sign-ins (staff and portal), Portal Login start and
end, and every mail or text sent are LOGIN / LOGOUT / SEND entries with user and IP, in the same hash
chain as row changes, and the audit page filters by action."""
import json
import re

import pytest
import sqlalchemy as sa

from panel import unit_of_work
from panel.audit.chain import verify_chain
from panel.audit.models import AuditEntry
from panel.audit.recorder import record_event
from panel.extensions import db
from tests.helpers import PanelClient, portal_sign_in
from tests.portal.conftest import world  # noqa: F401  (a fixture)


def _events(app, action=None):
    with app.app_context():
        statement = sa.select(AuditEntry).where(AuditEntry.action.in_(["LOGIN", "LOGOUT", "SEND"]))
        if action:
            statement = statement.where(AuditEntry.action == action)
        return [(e.action, e.message, e.user_label, e.ip, e.customer_id, json.loads(e.data))
                for e in db.session.scalars(statement.order_by(AuditEntry.id))]


def test_staff_sign_in_failure_and_sign_out_are_entries(app, staff_users):
    client = PanelClient(app.test_client())
    assert client.login("staff@example.com", "wrong password!").status_code == 401
    assert client.login("nobody@example.com", "wrong password!").status_code == 401
    assert client.login("staff@example.com").status_code == 303
    assert client.post("/logout", {}).status_code == 303
    assert _events(app) == [
        ("LOGIN", "Failed sign-in", "staff@example.com", "127.0.0.1", None,
         {"email": [None, "staff@example.com"], "reason": [None, "wrong password"]}),
        ("LOGIN", "Failed sign-in", "anonymous", "127.0.0.1", None,
         {"email": [None, "nobody@example.com"], "reason": [None, "wrong password"]}),
        ("LOGIN", "Sign-in", "staff@example.com", "127.0.0.1", None, {}),
        ("LOGOUT", "Sign-out", "staff@example.com", "127.0.0.1", None, {}),
    ]
    with app.app_context():
        assert verify_chain(db.session.connection()).intact


def test_portal_sign_in_failure_and_sign_out_are_entries_of_the_customer(app, world):  # noqa: F811
    client = PanelClient(app.test_client())
    assert client.post("/portal/login", {"email": world.ana_email, "password": "not the password"}).status_code == 401
    signed_in = portal_sign_in(app, world.ana_email)
    assert signed_in.post("/portal/logout", {}).status_code == 303
    label = "Portal: Ana Alpha <ana@alpha.example>"
    assert [(a, m, u, c) for a, m, u, _, c, _ in _events(app)] == [
        ("LOGIN", "Failed sign-in", label, world.a), ("LOGIN", "Sign-in", label, world.a),
        ("LOGOUT", "Sign-out", label, world.a)]


def test_every_mail_sent_is_a_send_entry(app, as_role):
    admin = as_role("admin")
    admin.post("/settings/staff", {"email": "new@example.com", "role": "staff"})
    sends = _events(app, "SEND")
    assert len(sends) == 1
    action, message, user, _, _, data = sends[0]
    assert (action, message, user) == ("SEND", "Mail sent", "admin@example.com")
    assert data["to"] == [None, "new@example.com"] and "set-password" not in json.dumps(data)


def test_every_text_sent_is_a_send_entry(app, world):  # noqa: F811
    client = portal_sign_in(app, world.ana_email)
    client.post("/portal/profile", {"name": "Ana Alpha", "mobile": "+44 7700 900001"})
    assert client.post("/portal/mobile/send-code").status_code == 303
    sends = _events(app, "SEND")
    assert [(m, d["to"][1]) for _, m, _, _, _, d in sends] == [("SMS sent", "+44 7700 900001")]
    assert set(sends[0][5]) == {"to"}  # never the text, which holds the code


def test_the_audit_page_filters_by_action(app, as_role):
    client = as_role("readonly")
    body = client.get("/audit?action=LOGIN").get_data(as_text=True)
    actions = re.findall(r"<td[^>]*><code>([A-Z]+)</code></td>", body)
    assert actions == ["LOGIN"]
    assert '<option value="LOGOUT"' in body and '<option value="SEND"' in body
    assert re.findall(r"<td[^>]*><code>([A-Z]+)</code></td>", client.get("/audit?action=POST").get_data(as_text=True)) == ["POST"] * 3
    assert client.get("/audit?action=DROP").status_code == 200  # an unknown action: no filter


def test_record_event_refuses_other_actions_and_long_messages(app):
    with app.app_context():
        with pytest.raises(ValueError):
            record_event("PUT", "Sign-in")
        with pytest.raises(ValueError):
            record_event("LOGIN", "x" * 17)
        with unit_of_work.unit():
            record_event("LOGIN", "Session revoked", data={"session": "phone"}, table_name="session", row_id=7)
        entry = db.session.scalar(sa.select(AuditEntry).order_by(AuditEntry.id.desc()))
        assert (entry.user_label, entry.row_id, entry.table_name) == ("system", "7", "session")
        assert verify_chain(db.session.connection()).intact
