"""The one shared audit mechanism: every audited insert, update and delete writes one entry."""
import json
from decimal import Decimal

import pytest
import sqlalchemy as sa

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.audit.models import AuditEntry
from panel.auth.models import StaffUser
from panel.contacts.models import Contact
from panel.customers.accounts import create_customer, set_channels_in_use
from panel.customers.models import Customer, LedgerEntry
from panel.extensions import db
from panel.staff import create_staff_user


def entries(**where):
    statement = sa.select(AuditEntry).order_by(AuditEntry.id)
    for key, value in where.items():
        statement = statement.where(getattr(AuditEntry, key) == value)
    return db.session.scalars(statement).all()


def test_insert_update_delete_each_write_one_entry_with_the_difference(app):
    with app.app_context():
        c = create_customer(SYSTEM, {"name": "Atlas Voice", "debit_limit": Decimal("10.50")}, "GBP")
        unit_of_work.commit()
        c.name, c.debit_limit = "Atlas Voice Ltd", Decimal(20)
        db.session.commit()
        db.session.delete(c)
        db.session.commit()
        new, update, delete = entries(table_name="customer")
        assert (new.message, new.action, new.user_label, new.row_id, new.customer_id) == ("New", "POST", "system", str(c.id), c.id)
        assert json.loads(new.data)["name"] == [None, "Atlas Voice"]
        assert json.loads(new.data)["currency"] == [None, "GBP"]
        assert (update.message, update.action) == ("Update", "PUT")
        assert json.loads(update.data) == {"name": ["Atlas Voice", "Atlas Voice Ltd"], "debit_limit": ["10.5000", "20"]}
        assert (delete.message, delete.action) == ("Delete", "DELETE")
        assert json.loads(delete.data)["name"] == ["Atlas Voice Ltd", None]


def test_previous_values_are_known_even_after_the_object_was_expired(app, customer):
    with app.app_context():
        c = db.session.get(Customer, customer)
        db.session.expire_all()
        c.status = "Penalty"  # set without reading the old value first
        db.session.commit()
        assert json.loads(entries(message="Update")[-1].data) == {"status": ["Active", "Penalty"]}


def test_a_rolled_back_change_leaves_no_entry(app):
    with app.app_context():
        db.session.add(Customer(name="Never saved", currency="USD"))
        db.session.flush()
        db.session.rollback()
        assert entries() == []


def test_saving_without_changes_writes_nothing(app, customer):
    with app.app_context():
        c = db.session.get(Customer, customer)
        c.name = c.name
        db.session.commit()
        assert [e.message for e in entries(table_name="customer")] == ["New"]


def test_secrets_never_appear_in_the_log(app):
    with app.app_context():
        user = create_staff_user("secret@example.com", "a very secret password", "staff")
        unit_of_work.commit()
        user.password_hash = "$2b$04$changedchangedchangedchangedchangedchangedchangedchan"
        db.session.commit()
        db.session.add(Contact(customer_id=create_customer(SYSTEM, {"name": "X"}, "USD").id, name="C", email="c@x.example",
                               password_hash="$2b$04$contactcontactcontactcontactcontactcontactcontactcont"))
        db.session.commit()
        text = " ".join(e.data for e in entries())
        assert "$2b$" not in text and "a very secret password" not in text
        update = entries(table_name="staff_user", message="Update")[-1]
        assert json.loads(update.data) == {"password_hash": ["[secret]", "[secret]"]}


def test_live_channel_figures_and_last_login_are_not_audited(app, customer):
    with app.app_context():
        set_channels_in_use(SYSTEM, customer, 12)
        unit_of_work.commit()
        user = create_staff_user("x@example.com", "long enough password", "staff")
        unit_of_work.commit()
        from panel.types import utcnow
        user.last_login_at = utcnow()
        db.session.commit()
        assert [e.message for e in entries(table_name="customer")] == ["New"]
        assert [e.message for e in entries(table_name="staff_user")] == ["New"]


def test_ledger_and_contact_entries_belong_to_their_customer(app, customer):
    with app.app_context():
        db.session.add(LedgerEntry(customer_id=customer, kind="payment", amount=Decimal(5)))
        db.session.add(Contact(customer_id=customer, name="Ines", email="ines@acme.example"))
        db.session.commit()
        assert {e.table_name for e in entries(customer_id=customer)} == {"customer", "ledger_entry", "contact"}


def test_a_web_change_records_the_user_and_the_ip(app, as_role, customer):
    client = as_role("staff")
    data = {"name": "Acme Voice", "status": "Active", "debit_limit": "0", "channel_limit": "30", "flow_speed": "0"}
    client.post(f"/customers/{customer}/edit", data, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    with app.app_context():
        entry = entries(message="Update")[-1]
        assert (entry.user_label, entry.ip, entry.action) == ("staff@example.com", "203.0.113.9", "PUT")
        assert entry.staff_user_id == db.session.scalar(sa.select(StaffUser.id).where(StaffUser.email == "staff@example.com"))


def _edit_from_behind_a_proxy(client, customer, name):
    data = {"name": name, "status": "Active", "debit_limit": "0", "channel_limit": "30", "flow_speed": "0"}
    client.post(f"/customers/{customer}/edit", data, environ_base={"REMOTE_ADDR": "10.0.0.2"},
                headers={"X-Forwarded-For": "198.51.100.7"})


def test_forwarded_addresses_are_ignored_without_a_configured_proxy(app, as_role, customer):
    _edit_from_behind_a_proxy(as_role("staff"), customer, "Spoofed")
    with app.app_context():
        assert entries(message="Update")[-1].ip == "10.0.0.2"


def test_the_real_ip_is_taken_from_a_configured_proxy(tmp_path, monkeypatch, sqlite_template):
    import shutil

    from panel import create_app
    from tests.helpers import PanelClient, app_config

    monkeypatch.setenv("PANEL_INSTANCE_PATH", str(tmp_path))
    shutil.copy(sqlite_template, tmp_path / "p.db")
    app = create_app({**app_config(f"sqlite:///{tmp_path / 'p.db'}"), "PROXY_COUNT": 1})
    with app.app_context():
        create_staff_user("staff@example.com", "correct horse battery staple", "staff")
        unit_of_work.commit()
        customer = create_customer(SYSTEM, {"name": "Proxy Co"}, "USD").id
        unit_of_work.commit()
    client = PanelClient(app.test_client())
    client.login("staff@example.com")
    _edit_from_behind_a_proxy(client, customer, "Via proxy")
    with app.app_context():
        assert entries(message="Update")[-1].ip == "198.51.100.7"
        db.session.remove()
        db.engine.dispose()


def test_audit_comment_option_asks_for_a_reason_and_stores_it(app, as_role, customer):
    client = as_role("admin")
    assert client.post("/settings/options", {"require_comment": "y"}).status_code == 303
    data = {"name": "Acme Two", "status": "Active", "debit_limit": "0", "channel_limit": "30", "flow_speed": "0"}
    refused = client.post(f"/customers/{customer}/edit", data)
    assert refused.status_code == 422
    assert "Say why you are making this change" in refused.get_data(as_text=True)
    assert 'value="Acme Two"' in refused.get_data(as_text=True)
    assert client.post(f"/customers/{customer}/edit", {**data, "audit_comment": "Customer renamed, ticket 4411"}).status_code == 303
    with app.app_context():
        assert entries(message="Update", table_name="customer")[-1].comment == "Customer renamed, ticket 4411"
        settings = [json.loads(e.data) for e in entries(table_name="setting")]
        assert {"key": [None, "audit_comment"], "value": [None, "1"]} in settings


@pytest.mark.parametrize("sql", ["UPDATE audit_entry SET message = 'x'", "DELETE FROM audit_entry"])
def test_the_database_refuses_to_change_or_remove_entries(app, customer, sql):
    with app.app_context():
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            with db.engine.begin() as connection:
                connection.execute(sa.text(sql))


def test_a_portal_change_is_by_portal_and_the_contact(app, customer):
    from panel import actor as actors

    with app.test_request_context("/portal/profile", method="POST", environ_base={"REMOTE_ADDR": "192.0.2.4"}):
        contact = Contact(customer_id=customer, name="Ines Ito", email="ines@acme.example")
        db.session.add(contact)
        db.session.commit()
        actors.act_as(actors.contact(contact))
        contact.phone = "+1 555 0100"
        db.session.commit()
        entry = entries(table_name="contact", message="Update")[-1]
        assert entry.user_label == "Portal: Ines Ito <ines@acme.example>"
        assert (entry.contact_id, entry.ip) == (contact.id, "192.0.2.4")


def test_every_response_forbids_framing_and_inline_scripts(client):
    headers = client.get("/login").headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
