"""Server-side sessions: a copied cookie replayed after sign-out, a password, role or active change,
"sign out everywhere" or a revoke gets the sign-in page (401 + HX-Redirect for htmx), never a page or a
write; the same for portal sessions and Portal Login; Your sessions pages; Cache-Control and HSTS."""
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from panel import unit_of_work
from panel.audit.models import AuditEntry
from panel.auth.models import StaffUser
from panel.contacts.models import Contact
from panel.customers.models import Customer
from panel.extensions import db
from panel.passwords import hash_password
from panel.portal.models import PortalLogin
from panel.sessions import WebSession, digest
from panel.types import utcnow
from tests.helpers import PanelClient, portal_sign_in, staff_sign_in


def copy_of(app, client: PanelClient) -> PanelClient:
    """Another browser holding a copy of this one's cookie and the CSRF token its page showed."""
    token = client.token()
    copied = PanelClient(app.test_client())
    copied.client.set_cookie("session", client.client.get_cookie("session").value)
    copied._token = token
    return copied


def customers_named(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Customer).where(Customer.name == name))


def assert_signed_out(app, copied: PanelClient, name: str = "Replayed Co"):
    page = copied.get("/customers")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    fragment = copied.get("/customers", htmx=True)
    assert fragment.status_code == 401 and fragment.headers["HX-Redirect"].startswith("/login")
    write = copied.post("/customers/new", {"name": name, "status": "Active", "currency": "USD"})
    assert write.status_code in (302, 400, 401) and "/customers/" not in write.headers.get("Location", "")
    assert customers_named(app, name) == 0


def change_staff(app, email: str, **values):
    with app.app_context():
        user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == email))
        for key, value in values.items():
            setattr(user, key, value)
        unit_of_work.commit()


def test_the_cookie_holds_a_random_id_whose_digest_only_is_stored(app, staff_users):
    client = staff_sign_in(app, staff_users["staff"])
    cookie = client.client.get_cookie("session").value
    assert "." not in cookie and len(cookie) >= 40  # not a signed payload
    with app.app_context():
        row = db.session.scalar(sa.select(WebSession).where(WebSession.staff_user_id.is_not(None)))
        assert row.token_digest == digest(cookie) and cookie not in row.data and cookie not in row.token_digest


def test_a_copied_cookie_works_while_the_session_lasts(app, staff_users):
    client = staff_sign_in(app, staff_users["staff"])
    assert copy_of(app, client).get("/customers").status_code == 200


def test_sign_out_ends_the_session_for_a_copied_cookie(app, staff_users):
    client = staff_sign_in(app, staff_users["staff"])
    copied = copy_of(app, client)
    assert client.post("/logout").status_code == 303
    assert_signed_out(app, copied)


@pytest.mark.parametrize("change", ["password", "role", "deactivation"])
def test_a_password_role_or_active_change_ends_every_session_of_the_user(app, staff_users, change):
    client = staff_sign_in(app, staff_users["staff"])
    copied = copy_of(app, client)
    values = {"password": {"password_hash": hash_password("another password 123")},
              "role": {"role": "readonly"}, "deactivation": {"active": False}}[change]
    change_staff(app, staff_users["staff"], **values)
    assert_signed_out(app, client)
    assert_signed_out(app, copied)


def test_other_users_sessions_are_untouched(app, staff_users):
    admin = staff_sign_in(app, staff_users["admin"])
    change_staff(app, staff_users["staff"], role="readonly")
    assert admin.get("/customers").status_code == 200


def test_sign_out_everywhere_else_keeps_this_browser(app, staff_users):
    here, there = staff_sign_in(app, staff_users["staff"]), staff_sign_in(app, staff_users["staff"])
    copied = copy_of(app, there)
    assert here.post("/account/sessions/others").status_code == 303
    assert here.get("/customers").status_code == 200
    assert_signed_out(app, there)
    assert_signed_out(app, copied)
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "REVOKE"))
        assert json.loads(event.data)["what"] == [None, "signed out everywhere else"]
        assert json.loads(event.data)["sessions"] == [None, 1]


def test_sign_out_everywhere_ends_this_browser_too(app, staff_users):
    here, there = staff_sign_in(app, staff_users["readonly"]), staff_sign_in(app, staff_users["readonly"])
    copied = copy_of(app, here)
    assert here.post("/account/sessions/all").headers["Location"] == "/login"
    assert_signed_out(app, copied)
    assert_signed_out(app, there)


def test_your_sessions_lists_device_address_and_revoke(app, staff_users):
    here = staff_sign_in(app, staff_users["staff"])
    there = PanelClient(app.test_client())
    there.client.environ_base.update({"HTTP_USER_AGENT": "Mozilla/5.0 (Windows NT 10.0) Chrome/130.0 Safari/537",
                                      "REMOTE_ADDR": "192.0.2.7"})
    there.login(staff_users["staff"])
    page = here.get("/account/sessions").get_data(as_text=True)
    assert "Chrome on Windows" in page and "192.0.2.7" in page and "this browser" in page
    with app.app_context():
        other = db.session.scalar(sa.select(WebSession.id).where(WebSession.ip == "192.0.2.7"))
    copied = copy_of(app, there)
    assert here.post(f"/account/sessions/{other}/revoke").status_code == 303
    assert_signed_out(app, copied)
    assert here.post(f"/account/sessions/{other}/revoke").status_code == 404  # ended already
    assert "192.0.2.7" not in here.get("/account/sessions").get_data(as_text=True)


def test_another_users_session_cannot_be_revoked_from_your_sessions(app, staff_users):
    mine, theirs = staff_sign_in(app, staff_users["staff"]), staff_sign_in(app, staff_users["admin"])
    with app.app_context():
        other = db.session.scalar(sa.select(WebSession.id).join(StaffUser, StaffUser.id == WebSession.staff_user_id)
                                  .where(StaffUser.role == "admin"))
    assert mine.post(f"/account/sessions/{other}/revoke").status_code == 404
    assert theirs.get("/customers").status_code == 200


def test_admins_see_and_revoke_any_staff_users_sessions(app, staff_users):
    admin, staff = staff_sign_in(app, staff_users["admin"]), staff_sign_in(app, staff_users["staff"])
    assert staff_sign_in(app, staff_users["staff"]).get("/settings/sessions").status_code == 403
    page = admin.get("/settings/sessions").get_data(as_text=True)
    assert "staff@example.com" in page and "admin@example.com" in page
    with app.app_context():
        user_id = db.session.scalar(sa.select(StaffUser.id).where(StaffUser.email == "staff@example.com"))
    copied = copy_of(app, staff)
    assert admin.post(f"/settings/sessions/user/{user_id}/revoke").status_code == 303
    assert_signed_out(app, copied)
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "REVOKE"))
        data = json.loads(event.data)
        assert data["whose"] == [None, "staff@example.com"] and data["what"] == [None, "signed out everywhere by an admin"]
        assert "admin@example.com" in event.user_label
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "REVOKE")) == 1


def test_revoke_needs_csrf(app, staff_users):
    here, there = staff_sign_in(app, staff_users["staff"]), staff_sign_in(app, staff_users["staff"])
    assert here.post("/account/sessions/others", csrf=False).status_code == 400
    assert there.get("/customers").status_code == 200


def test_idle_sessions_end_after_session_hours(app, staff_users):
    client = staff_sign_in(app, staff_users["staff"])
    with app.app_context():
        db.session.execute(sa.update(WebSession).values(
            last_seen_at=utcnow() - app.permanent_session_lifetime - timedelta(seconds=1)))
        unit_of_work.commit()
    assert client.get("/customers").status_code == 302


def test_last_seen_is_written_at_most_once_a_minute(app, staff_users):
    client = staff_sign_in(app, staff_users["staff"])
    client.get("/customers")  # the first page after sign-in writes the session's new CSRF token
    with app.app_context():
        first = db.session.scalar(sa.select(WebSession.last_seen_at).where(WebSession.staff_user_id.is_not(None)))
    client.get("/customers")
    client.get("/customers", htmx=True)
    with app.app_context():
        assert db.session.scalar(sa.select(WebSession.last_seen_at).where(WebSession.staff_user_id.is_not(None))) == first
        db.session.execute(sa.update(WebSession).values(last_seen_at=first - timedelta(minutes=2)))
        unit_of_work.commit()
    client.get("/customers")
    with app.app_context():
        assert db.session.scalar(sa.select(WebSession.last_seen_at).where(WebSession.staff_user_id.is_not(None))) > first


def test_staff_sign_out_ends_its_portal_login(app, impersonating, world):
    copied = copy_of(app, impersonating)
    assert impersonating.post("/logout").status_code == 303
    with app.app_context():
        login = db.session.scalar(sa.select(PortalLogin))
        assert login.ended_at is not None and login.end_reason == "the staff member signed out"
    assert copied.get("/portal/").headers["Location"].startswith("/portal/login")
    assert copied.get("/portal/", htmx=True).status_code == 401


def test_a_role_change_ends_the_users_portal_logins(app, impersonating, world):
    copied = copy_of(app, impersonating)
    change_staff(app, "staff@example.com", role="readonly")
    with app.app_context():
        assert db.session.scalar(sa.select(PortalLogin.ended_at)) is not None
    assert copied.get("/portal/").headers["Location"].startswith("/portal/login")


# -- portal sessions -----------------------------------------------------------------------------------

def assert_portal_signed_out(app, copied: PanelClient):
    page = copied.get("/portal/profile")
    assert page.status_code == 302 and page.headers["Location"].startswith("/portal/login")
    fragment = copied.get("/portal/profile", htmx=True)
    assert fragment.status_code == 401 and fragment.headers["HX-Redirect"] == "/portal/login"
    write = copied.post("/portal/profile", {"name": "Replayed Name"})
    assert write.status_code in (302, 400, 401)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)
                                 .where(Contact.name == "Replayed Name")) == 0


def change_contact(app, contact_id: int, **values):
    with app.app_context():
        contact = db.session.get(Contact, contact_id)
        for key, value in values.items():
            setattr(contact, key, value)
        unit_of_work.commit()


def test_portal_sign_out_ends_the_session_for_a_copied_cookie(app, world):
    client = portal_sign_in(app, "ana@alpha.example")
    copied = copy_of(app, client)
    assert copied.get("/portal/profile").status_code == 200
    client.post("/portal/logout")
    assert_portal_signed_out(app, copied)


@pytest.mark.parametrize("change", ["password", "deactivation", "allow-list"])
def test_a_contacts_password_deactivation_or_allow_list_applies_to_open_sessions(app, world, change):
    client = portal_sign_in(app, "ana@alpha.example")
    copied = copy_of(app, client)
    values = {"password": {"password_hash": hash_password("a new password 123")}, "deactivation": {"active": False},
              "allow-list": {"ip_allowlist": "198.51.100.0/24"}}[change]
    change_contact(app, world.ana, **values)
    assert_portal_signed_out(app, client)
    assert_portal_signed_out(app, copied)


def test_the_contacts_own_password_change_ends_their_other_sessions_only(app, world):
    from tests.helpers import CONTACT_PASSWORD

    here, there = portal_sign_in(app, "ana@alpha.example"), portal_sign_in(app, "ana@alpha.example")
    copied_here, copied_there = copy_of(app, here), copy_of(app, there)
    new = "a brand new password 42"
    assert here.post("/portal/password", {"current": CONTACT_PASSWORD, "new": new, "repeat": new}).status_code == 303
    here.forget_token()
    assert here.get("/portal/profile").status_code == 200
    assert_portal_signed_out(app, there)
    assert_portal_signed_out(app, copied_there)
    assert_portal_signed_out(app, copied_here)  # this browser's id was renewed


def test_portal_sessions_page_revoke_and_everywhere_else(app, world):
    here, there = portal_sign_in(app, "ana@alpha.example"), portal_sign_in(app, "ana@alpha.example")
    third = portal_sign_in(app, "ana@alpha.example")
    page = here.get("/portal/sessions").get_data(as_text=True)
    assert page.count(">Revoke</button>") == 2 and "this browser" in page
    with app.app_context():
        row = db.session.scalar(sa.select(WebSession.id).where(
            WebSession.token_digest == digest(there.client.get_cookie("session").value)))
    assert here.post(f"/portal/sessions/{row}/revoke").status_code == 303
    assert_portal_signed_out(app, there)
    assert third.get("/portal/profile").status_code == 200
    assert here.post("/portal/sessions/others").status_code == 303
    assert_portal_signed_out(app, third)
    assert here.get("/portal/profile").status_code == 200
    with app.app_context():
        events = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "REVOKE")).all()
        assert len(events) == 2 and all(json.loads(e.data)["whose"] == [None, "ana@alpha.example"] for e in events)
        assert all(e.customer_id == world.a for e in events)


def test_a_contact_cannot_revoke_another_contacts_session(app, world):
    ana, ben = portal_sign_in(app, "ana@alpha.example"), portal_sign_in(app, "ben@beta.example")
    with app.app_context():
        row = db.session.scalar(sa.select(WebSession.id).where(WebSession.contact_id == world.ben))
    assert ana.post(f"/portal/sessions/{row}/revoke").status_code == 404
    assert ben.get("/portal/profile").status_code == 200


def test_portal_and_staff_sessions_in_one_browser_end_separately(app, staff_users, world):
    client = staff_sign_in(app, staff_users["staff"])
    client.post("/portal/login", {"email": "ana@alpha.example", "password": __import__(
        "tests.helpers", fromlist=["CONTACT_PASSWORD"]).CONTACT_PASSWORD})
    client.forget_token()
    change_contact(app, world.ana, active=False)
    assert client.get("/customers").status_code == 200  # the staff session stays
    assert client.get("/portal/profile").status_code == 302


# -- headers -----------------------------------------------------------------------------------------

def test_signed_in_answers_are_no_store(app, staff_users, world):
    client = staff_sign_in(app, staff_users["staff"])
    for response in (client.get("/customers"), client.get("/customers", htmx=True), client.get("/account/sessions")):
        assert response.headers["Cache-Control"] == "no-store"
    portal = portal_sign_in(app, "ana@alpha.example")
    assert portal.get("/portal/").headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in portal.get("/portal/").headers  # plain http


def test_hsts_behind_https_directly_and_through_trusted_proxies(app):
    client = app.test_client()
    assert "max-age=" in client.get("/login", base_url="https://panel.example").headers["Strict-Transport-Security"]
    assert "Strict-Transport-Security" not in client.get("/login", headers={"X-Forwarded-Proto": "https"}).headers


def test_hsts_through_a_trusted_proxy():
    from panel import create_app
    from tests.helpers import app_config

    app = create_app({**app_config("sqlite://"), "PROXY_COUNT": 1})
    response = app.test_client().get("/health", headers={"X-Forwarded-Proto": "https"})
    assert "max-age=" in response.headers["Strict-Transport-Security"]
