"""Contacts through the test client: inline add, edit, delete, password reset, Global Contacts."""
import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.audit.models import AuditEntry
from panel.contacts.models import Contact
from panel.contacts.records import create_contact
from panel.extensions import db
from panel.mail.models import MailMessage
from panel.passwords import RULE
from tests.factories import ContactFactory
from tests.helpers import temporary_password

NEW = {"name": "Ines Ito", "email": "ines@acme.example", "contact_type": "Billing", "phone": "+1 555 0100",
       "public_notes": "Call after 9", "auto_password": "y"}


@pytest.fixture
def contact(app, customer):
    with app.app_context():
        return ContactFactory(customer_id=customer, name="Ana Almeida", email="ana@acme.example", phone="+1 555 0001",
                              private_notes="VIP", password="long enough pw").id


def errors(response):
    return re.findall(r'<p class="error">([^<]+)</p>', response.get_data(as_text=True))


def test_section_lists_the_contacts_with_private_notes_for_staff(as_role, customer, contact):
    body = as_role("readonly").get(f"/customers/{customer}/contacts", htmx=True).get_data(as_text=True)
    assert "Ana Almeida" in body and "VIP" in body and "Contacts <span id=\"contact-count\" class=\"muted\">(1)" in body
    assert 'hx-trigger="click"' not in body  # read-only staff cannot open the editor


def test_add_contact_with_generated_password_sends_a_welcome_mail(app, as_role, customer):
    client = as_role("staff")
    response = client.post(f"/customers/{customer}/contacts", NEW, htmx=True)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Ines Ito" in body and "An e-mail with a temporary password was sent to ines@acme.example." in body
    with app.app_context():
        message = db.session.scalar(sa.select(MailMessage))
        assert message.status == "sent" and message.body is None  # delivered, and the password erased
        outbox = list(Path(app.instance_path, "outbox").glob("*.eml"))
        assert len(outbox) == 1 and "ines@acme.example" in outbox[0].read_text()
        entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.table_name == "contact")).one()
        assert json.loads(entry.data)["password_hash"] == [None, "[secret]"]


def test_save_and_stay_offers_an_empty_form_again(as_role, customer):
    client = as_role("staff")
    body = client.post(f"/customers/{customer}/contacts", {**NEW, "save_action": "stay"}, htmx=True).get_data(as_text=True)
    assert "Saved." in body and 'id="new-contact"' in body and 'value="Ines Ito"' not in body.split('id="new-contact"')[1].split("</form>")[0]


def test_invalid_contact_keeps_the_typed_values_with_status_422(app, as_role, customer, contact):
    client = as_role("staff")
    bad = {**NEW, "name": "New Person", "email": "ANA@acme.example", "phone": "call me", "auto_password": ""}
    response = client.post(f"/customers/{customer}/contacts", bad, htmx=True)
    assert response.status_code == 422
    assert set(errors(response)) >= {"This e-mail is already the portal login of another contact.",
                                     "Use digits, spaces and + ( ) - . only.",
                                     "Type a password, or tick Auto Generate Password."}
    assert 'value="New Person"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 1


def test_password_in_notes_is_refused_unless_confirmed(as_role, customer):
    client = as_role("staff")
    refused = client.post(f"/customers/{customer}/contacts", {**NEW, "private_notes": "pwd=hunter22"}, htmx=True)
    assert refused.status_code == 422 and any("This looks like a password" in e for e in errors(refused))
    assert "These notes hold no password" in refused.get_data(as_text=True)
    confirmed = {**NEW, "private_notes": "pwd=hunter22", "notes_hold_no_password": "y"}
    assert client.post(f"/customers/{customer}/contacts", confirmed, htmx=True).status_code == 200


def test_inline_edit_round_trip(app, as_role, customer, contact):
    client = as_role("staff")
    form = client.get(f"/customers/{customer}/contacts/{contact}/edit", htmx=True).get_data(as_text=True)
    assert form.startswith('\n<tr id="contact-') or '<tr id="contact-' in form[:200]
    assert 'value="Ana Almeida"' in form
    data = {"name": "Ana A. Almeida", "email": "ana@acme.example", "contact_type": "Admin", "phone": "+1 555 0002"}
    row = client.post(f"/customers/{customer}/contacts/{contact}", data, htmx=True)
    assert row.status_code == 200 and "Ana A. Almeida" in row.get_data(as_text=True) and "inline-form" not in row.get_data(as_text=True)
    with app.app_context():
        entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.message == "Update")).one()
        assert json.loads(entry.data)["name"] == ["Ana Almeida", "Ana A. Almeida"]
        assert json.loads(entry.data)["private_notes"] == ["VIP", ""]  # the notes were cleared in the form


def test_inline_edit_with_save_and_stay_keeps_the_form(as_role, customer, contact):
    client = as_role("staff")
    data = {"name": "Ana", "email": "ana@acme.example", "contact_type": "Admin", "save_action": "stay"}
    body = client.post(f"/customers/{customer}/contacts/{contact}", data, htmx=True).get_data(as_text=True)
    assert "<form" in body and "Saved." in body


def test_contact_of_another_customer_is_404(app, as_role, contact):
    from panel.customers.accounts import create_customer

    with app.app_context():
        other = create_customer(SYSTEM, {"name": "Other"}, "USD").id
        unit_of_work.commit()
    client = as_role("staff")
    assert client.get(f"/customers/{other}/contacts/{contact}/edit", htmx=True).status_code == 404
    assert client.post(f"/customers/{other}/contacts/{contact}", {"name": "x"}, htmx=True).status_code == 404
    assert client.client.delete(f"/customers/{other}/contacts/{contact}",
                                headers={"HX-Request": "true", "X-CSRFToken": client.token()}).status_code == 404


def test_delete_is_audited_and_needs_csrf(app, as_role, customer, contact):
    client = as_role("staff")
    url = f"/customers/{customer}/contacts/{contact}"
    assert client.client.delete(url, headers={"HX-Request": "true"}).status_code == 400
    response = client.client.delete(url, headers={"HX-Request": "true", "X-CSRFToken": client.token()})
    assert response.status_code == 200 and 'id="contact-count"' in response.get_data(as_text=True)
    # Nothing is left where the row was: the answer says what happened in a toast (HX-Trigger notice).
    notice = json.loads(response.headers["HX-Trigger"])["notice"]
    assert re.fullmatch(r"Contact .+ deleted\.", notice), notice
    with app.app_context():
        assert db.session.get(Contact, contact) is None
        entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.message == "Delete")).one()
        assert entry.table_name == "contact" and entry.action == "DELETE" and entry.user_label == "staff@example.com"


def test_readonly_cannot_change_contacts(as_role, customer, contact):
    client = as_role("readonly")
    assert client.get(f"/customers/{customer}/contacts/{contact}/edit", htmx=True).status_code == 403
    assert client.post(f"/customers/{customer}/contacts/{contact}", {"name": "x"}, htmx=True).status_code == 403
    assert client.post(f"/customers/{customer}/contacts", NEW, htmx=True).status_code == 403


def test_password_reset_generated_is_mailed_and_never_shown(app, as_role, customer, contact):
    client = as_role("staff")
    response = client.post(f"/customers/{customer}/contacts/{contact}/password", {"auto_password": "y"}, htmx=True)
    assert response.status_code == 200 and "Password changed." in response.get_data(as_text=True)
    with app.app_context():
        eml = next(Path(app.instance_path, "outbox").glob("*.eml")).read_text()
        temporary = temporary_password(eml)
        assert temporary not in response.get_data(as_text=True)
        c = db.session.get(Contact, contact)
        assert c.must_change_password
        # Asked (the password waits for its e-mail), then delivered (it becomes the password).
        asked, delivered = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.message == "Update")
                                              .order_by(AuditEntry.id)).all()
        assert json.loads(asked.data)["pending_password_hash"] == [None, "[secret]"]
        assert json.loads(delivered.data)["password_hash"] == ["[secret]", "[secret]"]
        assert temporary not in asked.data + delivered.data


def test_password_reset_typed_must_be_long_enough(as_role, customer, contact):
    response = as_role("staff").post(f"/customers/{customer}/contacts/{contact}/password", {"password": "short"}, htmx=True)
    assert response.status_code == 422
    assert RULE in errors(response)  # the rule shown beside the field (panel/passwords.py)


def test_reset_when_the_mail_server_is_down_says_so_and_keeps_the_message(app, as_role, customer, contact):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    response = as_role("staff").post(f"/customers/{customer}/contacts/{contact}/password", {"auto_password": "y"}, htmx=True)
    assert response.status_code == 200
    assert "could not be sent yet" in response.get_data(as_text=True)
    with app.app_context():
        message = db.session.scalar(sa.select(MailMessage))
        assert message.status == "queued" and message.attempts == 1 and message.body


def test_global_contacts_search_and_filters(app, as_role, customer, contact):
    from panel.customers.accounts import create_customer

    with app.app_context():
        other = create_customer(SYSTEM, {"name": "Beacon Hotels"}, "USD").id
        unit_of_work.commit()
        create_contact(SYSTEM, other, {"name": "Bo Brown", "email": "bo@beacon.example", "mobile": "+44 7700 900123",
                               "contact_type": "Technical"}, password="long enough pw")
        db.session.commit()
    client = as_role("readonly")
    page = client.get("/contacts").get_data(as_text=True)
    assert "Ana Almeida" in page and "Bo Brown" in page and "Beacon Hotels" in page
    assert "Bo Brown" in client.get("/contacts?q=7700", htmx=True).get_data(as_text=True)
    assert "Ana Almeida" not in client.get("/contacts?q=7700", htmx=True).get_data(as_text=True)
    assert "Ana Almeida" not in client.get("/contacts?customer=beacon").get_data(as_text=True)
    assert "Bo Brown" not in client.get(f"/contacts?customer={customer}").get_data(as_text=True)
    assert "Ana Almeida" not in client.get("/contacts?type=Technical").get_data(as_text=True)
    fragment = client.get("/contacts?q=ana", htmx=True)
    assert "<html" not in fragment.get_data(as_text=True) and "HX-Request" in fragment.headers["Vary"]


def test_global_contacts_edit_keeps_the_customer_column(as_role, customer, contact):
    client = as_role("staff")
    row = client.post(f"/customers/{customer}/contacts/{contact}",
                      {"name": "Ana", "email": "ana@acme.example", "contact_type": "Other", "view": "global"}, htmx=True)
    assert "Acme Telecom" in row.get_data(as_text=True)


def test_a_search_with_too_many_matches_says_so_and_short_text_asks_for_more(app, as_role, customer, monkeypatch):
    from panel import search

    with app.app_context():
        for n in range(4):
            create_contact(SYSTEM, customer, {"name": f"Ines Ito {n}", "email": f"i{n}@acme.example"}, password="long enough pw")
        db.session.commit()
    monkeypatch.setattr(search, "SEARCH_CAP", 3)
    client = as_role("readonly")
    body = client.get("/contacts?q=acme.", htmx=True).get_data(as_text=True)
    assert "contacts match; the first 3 found are shown in name order" in body
    assert "found are shown" not in client.get("/contacts?q=ines", htmx=True).get_data(as_text=True)  # names: no cap
    assert "Type at least 3 characters to search." in client.get("/contacts?q=in", htmx=True).get_data(as_text=True)
    monkeypatch.setattr(search, "SEARCH_CAP", 10)
    assert "found are shown" not in client.get("/contacts?q=acme.", htmx=True).get_data(as_text=True)


def test_a_delayed_new_contact_shows_in_the_section_until_it_exists(as_role, customer, contact):
    client = as_role("staff")
    client.post(f"/customers/{customer}/contacts", {**NEW, "save_action": "delay", "delay": "300"}, htmx=True)
    body = client.get(f"/customers/{customer}/contacts", htmx=True).get_data(as_text=True)
    rows = body[body.index('<tbody id="contact-rows">'):body.index("</tbody>")]
    assert 'class="pending-row"' in rows and "Ines Ito" in rows and "pending, applies at" in rows
    assert f'id="contact-{contact}"' in rows and "VIP" in rows
