"""Contact passkeys without a browser (tests/browser/test_contact_passkeys.py drives a real one): several,
named, each removable by its owner only; they count as the second factor at sign-in and for a customer that
requires one; never in Portal Login."""
import sqlalchemy as sa
from webauthn.helpers import bytes_to_base64url

from panel.audit.models import AuditEntry
from panel.contacts.models import Contact
from panel.customers.models import Customer
from panel.extensions import db
from panel.twofactor.models import Passkey
from tests.factories import ContactFactory
from tests.twofactor.test_two_factor import contact, portal_password, take_token  # noqa: F401


def _add_passkeys(app, email, *names):
    with app.app_context():
        row = db.session.scalar(sa.select(Contact).where(Contact.email == email))
        for i, name in enumerate(names):
            db.session.add(Passkey(contact_id=row.id, customer_id=row.customer_id, name=name,
                                   credential_id=bytes_to_base64url(f"{email}-{i}".encode()), public_key=b"k", sign_count=0))
        db.session.commit()
        return row.id, list(db.session.scalars(sa.select(Passkey.id).where(Passkey.contact_id == row.id)
                                               .order_by(Passkey.id)))


def test_several_named_passkeys_are_listed_and_each_is_removed_by_its_owner(app, contact):
    client = portal_password(app, contact)  # signed in before the passkeys exist: past the second step
    _, ids = _add_passkeys(app, contact, "Desk key", "Laptop key")
    page = take_token(client, "/portal/profile")
    assert "Desk key" in page and "Laptop key" in page and "Add a passkey" in page
    assert client.post(f"/portal/passkeys/{ids[0]}/remove").status_code == 303
    page = client.get("/portal/profile").get_data(as_text=True)
    assert "<td>Laptop key</td>" in page and "<td>Desk key</td>" not in page and "“Desk key” removed" in page
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "UNENROL"))
        assert entry is not None and "Desk key" in entry.data and entry.customer_id is not None


def test_another_contacts_passkey_cannot_be_removed(app, contact, customer):
    with app.app_context():
        ContactFactory(customer_id=customer, email="other@example.com")
    _, theirs = _add_passkeys(app, "other@example.com", "Their key")
    client = portal_password(app, contact)
    take_token(client, "/portal/profile")
    assert client.post(f"/portal/passkeys/{theirs[0]}/remove").status_code == 404
    with app.app_context():
        assert db.session.get(Passkey, theirs[0]) is not None


def test_a_passkey_is_a_second_factor_at_the_portal_sign_in(app, contact):
    _add_passkeys(app, contact, "Phone")
    client = portal_password(app, contact)
    assert client.get("/portal/").headers["Location"].endswith("/portal/two-factor")
    page = take_token(client, "/portal/two-factor")
    assert "Use a passkey" in page
    options = client.client.post("/portal/two-factor/passkey/options", headers={"X-CSRFToken": client.token()})
    assert options.status_code == 200
    assert [c["id"] for c in options.get_json()["allowCredentials"]] == [bytes_to_base64url(b"pat@example.com-0")]
    forged = client.client.post("/portal/two-factor/passkey", json={"id": bytes_to_base64url(b"pat@example.com-0"), "response": {}},
                                headers={"X-CSRFToken": client.token()})
    assert forged.status_code == 401
    assert client.get("/portal/").headers["Location"].endswith("/portal/two-factor")  # still held


def test_the_passkey_endpoints_of_the_second_step_are_for_a_held_session_only(app, contact):
    client = portal_password(app, contact)
    take_token(client, "/portal/profile")
    assert client.client.post("/portal/two-factor/passkey/options", headers={"X-CSRFToken": client.token()}).status_code == 409


def test_a_customer_that_requires_two_factor_lets_its_contact_enrol_a_passkey(app, contact):
    with app.app_context():
        row = db.session.scalar(sa.select(Contact).where(Contact.email == contact))
        db.session.get(Customer, row.customer_id).require_two_factor = True
        db.session.commit()
    client = portal_password(app, contact)
    page = take_token(client, "/portal/two-factor/setup")
    assert "Or use a passkey" in page
    options = client.client.post("/portal/passkeys/options", headers={"X-CSRFToken": client.token()})
    assert options.status_code == 200 and options.get_json()["rp"]["id"] == "localhost"
    assert options.get_json()["user"]["name"] == contact
    assert client.get("/portal/invoices").headers["Location"].endswith("/portal/two-factor/setup")


def test_portal_login_cannot_add_or_remove_a_contacts_passkey(app, as_role, customer, contact):
    contact_id, ids = _add_passkeys(app, contact, "Phone")
    staff = as_role("staff")
    take_token(staff, "/customers")
    assert staff.post(f"/customers/{customer}/contacts/{contact_id}/portal-login").status_code == 303
    take_token(staff, "/portal/profile")
    assert staff.post("/portal/passkeys/options").status_code == 403
    assert staff.post(f"/portal/passkeys/{ids[0]}/remove").status_code == 403
    with app.app_context():
        assert db.session.get(Passkey, ids[0]) is not None
