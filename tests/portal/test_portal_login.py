"""Portal Login: staff see the portal exactly as a contact, with a banner, for 30 minutes at most, audited."""
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from panel.audit.models import AuditEntry
from panel.contacts.models import Contact
from panel.customers.models import Customer
from panel.extensions import db
from panel.portal.models import PortalLogin
from panel.types import utcnow
from tests.helpers import PanelClient
from tests.portal.conftest import MARKER


def test_the_banner_names_the_contact_and_the_staff_member(impersonating, world):
    body = impersonating.get("/portal/").get_data(as_text=True)
    assert "Signed in as <strong>Ana Alpha</strong> by <strong>staff@example.com</strong>" in body
    assert "Return to control panel" in body and "Alpha public note" in body and MARKER not in body
    assert "Signed in as" in impersonating.get("/portal/profile").get_data(as_text=True)


def test_return_ends_it_and_lands_on_the_customer_still_signed_in_as_staff(app, impersonating, world):
    response = impersonating.post("/portal/return")
    assert response.status_code == 303 and response.headers["Location"] == f"/customers/{world.a}"
    impersonating.forget_token()
    assert impersonating.get(f"/customers/{world.a}").status_code == 200
    assert impersonating.get("/portal/").headers["Location"].startswith("/portal/login")
    with app.app_context():
        login = db.session.scalar(sa.select(PortalLogin))
        assert login.ended_at is not None and login.end_reason == "returned to the control panel"


def test_start_and_end_are_audited_with_both_names(app, impersonating, world):
    impersonating.post("/portal/return")
    with app.app_context():
        start, login, end, logout = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.table_name == "portal_login").order_by(AuditEntry.id)).all()
    assert (login.action, login.message, login.user_label, login.customer_id) == (
        "LOGIN", "Portal Login", "staff@example.com", world.a)
    assert json.loads(login.data) == {"contact": [None, "ana@alpha.example"]}
    assert (logout.action, logout.message, logout.customer_id, logout.ip) == (
        "LOGOUT", "Portal Login end", world.a, "127.0.0.1")
    assert "staff@example.com" in logout.user_label and "returned" in json.loads(logout.data)["reason"][1]
    assert start.message == "New" and start.user_label == "staff@example.com" and start.customer_id == world.a
    assert start.comment == "Portal Login as Ana Alpha <ana@alpha.example> by staff@example.com"
    assert end.message == "Update" and "staff@example.com" in end.user_label and "ana@alpha.example" in end.user_label
    assert "token_digest" not in start.data or json.loads(start.data)["token_digest"][1] == "[secret]"


def test_changes_during_it_are_audited_with_both_names(app, impersonating, world):
    assert impersonating.post("/portal/profile", {"name": "Ana Alpha", "phone": "+1 555 0199"}).status_code == 303
    with app.app_context():
        entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.table_name == "contact",
                                                               AuditEntry.message == "Update")).all()[-1]
        staff_id = db.session.scalar(sa.select(PortalLogin.staff_user_id))
    assert entry.user_label == "Portal: Ana Alpha <ana@alpha.example> (Portal Login by staff@example.com)"
    assert entry.contact_id == world.ana and entry.staff_user_id == staff_id


def test_it_cannot_change_the_password_or_the_email(app, impersonating, world):
    assert impersonating.get("/portal/password").status_code == 403
    assert impersonating.post("/portal/password", {"new": "x" * 12, "repeat": "x" * 12}).status_code == 403
    assert impersonating.post("/portal/profile", {"name": "Ana Alpha", "new_email": "evil@x.example"}).status_code == 403
    with app.app_context():
        contact = db.session.get(Contact, world.ana)
        assert contact.email == "ana@alpha.example" and contact.pending_email is None


def test_it_does_not_count_as_the_contacts_sign_in(app, impersonating, world):
    impersonating.get("/portal/")
    with app.app_context():
        assert db.session.get(Contact, world.ana).last_login_at is None


def test_it_cannot_be_nested(impersonating, world):
    response = impersonating.post(f"/customers/{world.a}/contacts/{world.ana}/portal-login")
    assert response.status_code == 409 and "already open" in response.get_data(as_text=True)


def test_it_ends_by_itself_after_30_minutes(app, impersonating, world):
    with app.app_context():
        login = db.session.scalar(sa.select(PortalLogin))
        assert timedelta(minutes=29) < login.expires_at - login.started_at <= timedelta(minutes=30)
        login.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert impersonating.get("/portal/").headers["Location"].startswith("/portal/login")
    with app.app_context():
        assert db.session.scalar(sa.select(PortalLogin.end_reason)) == "expired after 30 minutes"


def test_the_session_id_and_csrf_token_are_renewed_at_start_and_end(app, staff_users, world):
    client = PanelClient(app.test_client())
    client.login(staff_users["staff"])
    before_token = client.token()
    with client.client.session_transaction() as s:
        before_sid = s.get("sid")
    client.post(f"/customers/{world.a}/contacts/{world.ana}/portal-login")
    with client.client.session_transaction() as s:
        during_sid = s["sid"]
        assert "csrf_token" not in s
    client.forget_token()
    during_token = client.token()
    assert during_sid != before_sid and during_token != before_token
    # The old CSRF token no longer works.
    stale = client.client.post("/portal/profile", data={"csrf_token": before_token, "name": "x"})
    assert stale.status_code == 400
    client.post("/portal/return")
    with client.client.session_transaction() as s:
        assert s["sid"] != during_sid and "portal_login" not in s


@pytest.mark.parametrize("change", ["deactivated contact", "inactive customer"])
def test_deactivated_contacts_and_inactive_customers_cannot_be_signed_in_as(app, as_role, world, change):
    with app.app_context():
        if change == "deactivated contact":
            db.session.get(Contact, world.ana).active = False
        else:
            db.session.get(Customer, world.a).status = "Inactive"
        db.session.commit()
    staff = as_role("staff")
    # The row menu says so before anyone presses it: Portal Login disabled, with the reason.
    row = staff.get(f"/customers/{world.a}/contacts/{world.ana}", htmx=True).get_data(as_text=True)
    reason = ("This contact is deactivated" if change == "deactivated contact" else "The customer is Inactive")
    assert f'<button type="button" disabled aria-describedby="portal-login-why-{world.ana}">Portal Login</button>' in row
    assert reason in row and "/portal-login" not in row
    response = staff.post(f"/customers/{world.a}/contacts/{world.ana}/portal-login")
    assert response.status_code == 409 and reason in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PortalLogin)) == 0


def test_an_active_contact_offers_portal_login(as_role, world):
    row = as_role("staff").get(f"/customers/{world.a}/contacts/{world.ana}", htmx=True).get_data(as_text=True)
    assert f'action="/customers/{world.a}/contacts/{world.ana}/portal-login"' in row and "disabled" not in row
    assert f'hx-get="/customers/{world.a}/contacts/{world.ana}/edit"' in row  # the Edit item of the menu
    assert 'tabindex="0"' in row


def test_portal_login_of_another_customers_contact_by_id_is_404(as_role, world):
    assert as_role("staff").post(f"/customers/{world.b}/contacts/{world.ana}/portal-login").status_code == 404


def test_a_staff_session_alone_does_not_open_the_portal(as_role):
    assert as_role("admin").get("/portal/").headers["Location"].startswith("/portal/login")


def test_a_portal_session_does_not_open_the_control_panel(world, portal_client):
    client = portal_client(world.ana_email)
    for url in ("/customers", f"/customers/{world.a}", "/contacts", "/audit", "/settings/options"):
        assert client.get(url).headers["Location"].startswith("/login")
