"""The staff IP allow-list: addresses and CIDR ranges, applied at sign-in and on every request; an admin
cannot save a list that shuts out the address they are using."""
import sqlalchemy as sa

from panel.audit.models import AuditEntry
from panel.extensions import db
from panel.options import get_option, set_option
from tests.portal.conftest import world  # noqa: F401  (a fixture: two customers and their contacts)
from tests.helpers import PanelClient

ELSEWHERE = {"REMOTE_ADDR": "198.51.100.9"}


def _save(app, text):
    with app.app_context():
        set_option("staff_ip_allowlist", text)
        db.session.commit()


def test_an_admin_saves_addresses_and_ranges_that_include_their_own(app, as_role):
    admin = as_role("admin")
    response = admin.post("/settings/ip-allowlist", {"allowlist": "127.0.0.1\n192.0.2.0/24, 2001:db8::/32"})
    assert response.status_code == 303, response.get_data(as_text=True)
    with app.app_context():
        assert get_option("staff_ip_allowlist") == "127.0.0.1\n192.0.2.0/24\n2001:db8::/32"
        entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.table_name == "setting")).all()[-1]
        assert entry.user_label == "admin@example.com"
    assert "192.0.2.0/24" in admin.get("/settings/ip-allowlist").get_data(as_text=True)


def test_a_list_that_excludes_the_admins_own_address_is_refused_by_the_field(app, as_role):
    admin = as_role("admin")
    response = admin.post("/settings/ip-allowlist", {"allowlist": "192.0.2.0/24"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "Your own address 127.0.0.1 is not on the list" in body
    assert "192.0.2.0/24</textarea>" in body
    bad = admin.post("/settings/ip-allowlist", {"allowlist": "127.0.0.1\nnot-an-address"})
    assert bad.status_code == 422 and "“not-an-address” is neither an address" in bad.get_data(as_text=True)
    with app.app_context():
        assert get_option("staff_ip_allowlist") == ""


def test_the_list_applies_at_sign_in_and_on_every_request(app, as_role, staff_users):
    signed_in_elsewhere = PanelClient(app.test_client())
    signed_in_elsewhere.client.environ_base.update(ELSEWHERE)
    assert signed_in_elsewhere.login("staff@example.com").status_code == 303
    assert signed_in_elsewhere.get("/customers").status_code == 200
    _save(app, "127.0.0.0/8")
    assert signed_in_elsewhere.get("/customers").status_code == 403  # a session already open
    refused = PanelClient(app.test_client())
    refused.client.environ_base.update(ELSEWHERE)
    response = refused.login("staff@example.com")
    assert response.status_code == 403 and "may not sign in from your address" in response.get_data(as_text=True)
    assert refused.get("/customers").headers["Location"].startswith("/login")
    with app.app_context():
        entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.message == "Failed sign-in")).all()[-1]
        assert entry.ip == "198.51.100.9" and "allow-list" in entry.data
    assert PanelClient(app.test_client()).login("staff@example.com").status_code == 303  # from 127.0.0.1


def test_the_portal_is_not_behind_the_staff_list(app, world):  # noqa: F811
    from tests.helpers import portal_sign_in

    _save(app, "127.0.0.1")
    client = PanelClient(app.test_client())
    client.client.environ_base.update(ELSEWHERE)
    assert client.post("/portal/login", {"email": world.ana_email, "password": "contact password 123"}).status_code == 303
    assert portal_sign_in(app, world.ana_email).get("/portal/").status_code == 200
