"""Who may reach what, checked for every route of the app (walked from the URL map)."""
import pytest
import sqlalchemy as sa

from panel.audit.models import AuditEntry
from panel.extensions import db

PUBLIC = {"auth.login", "static", "health"}
ADMIN_ONLY_BLUEPRINTS = {"settings"}
# Forms that only lead to a write: read-only staff are not even shown them.
READONLY_FORBIDDEN_FORMS = {"contacts.edit", "contacts.password"}


def routes(app, ids):
    """Every (endpoint, url, methods) of the app with its arguments filled in."""
    values = {**ids, "filename": "panel.css"}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            continue  # bearer tokens: tests/api
        url = rule.build({arg: values[arg] for arg in rule.arguments}, append_unknown=False)[1]
        yield rule.endpoint, url, rule.methods - {"HEAD", "OPTIONS"}


@pytest.fixture
def ids(app, customer):
    """One of each object a URL can name."""
    from datetime import timedelta

    from panel.contacts.records import create_contact
    from panel.delayed import changes
    from panel.types import utcnow

    with app.app_context():
        contact, _ = create_contact(customer, {"name": "Ana", "email": "ana@acme.example"}, password="long enough pw")
        db.session.commit()
        change = changes.schedule_create("contact", customer, {"name": "Ben", "email": "ben@acme.example"},
                                         utcnow() + timedelta(hours=1))
        return {
            "customer_id": customer, "contact_id": contact.id, "change_id": change.id,
            "entry_id": db.session.scalar(sa.select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)),
        }


def test_anonymous_requests_are_sent_to_sign_in(app, client, ids):
    for endpoint, url, methods in routes(app, ids):
        if endpoint in PUBLIC:
            continue
        for method in methods:
            response = client.client.open(url, method=method)
            response.close()
            assert response.status_code in (302, 400), (method, url, response.status_code)
            if response.status_code == 302:
                assert response.headers["Location"].startswith("/login"), (method, url)


@pytest.mark.parametrize("role", ["readonly", "staff", "admin"])
def test_every_route_enforces_the_role(app, as_role, role, ids):
    client = as_role(role)
    for endpoint, url, methods in sorted(routes(app, ids), key=lambda r: "DELETE" in r[2]):
        blueprint = endpoint.split(".")[0]
        for method in methods:
            if endpoint == "auth.logout" or endpoint in PUBLIC:
                continue
            response = client.client.open(url, method=method, headers={"HX-Request": "true"},
                                          data={"csrf_token": client.token()})
            code = response.status_code
            response.close()
            if blueprint in ADMIN_ONLY_BLUEPRINTS and role != "admin":
                assert code == 403, (role, method, url, code)
            elif role == "readonly" and (method != "GET" or endpoint in READONLY_FORBIDDEN_FORMS):
                assert code == 403, (role, method, url, code)
            else:
                assert code < 500 and code != 403, (role, method, url, code)


def test_readonly_sees_no_write_controls(as_role, customer):
    client = as_role("readonly")
    assert "+ New customer" not in client.get("/customers").get_data(as_text=True)
    assert f"/customers/{customer}/edit" not in client.get(f"/customers/{customer}").get_data(as_text=True)


def test_readonly_cannot_create_or_edit(app, as_role, customer):
    client = as_role("readonly")
    assert client.post("/customers/new", {"name": "X", "status": "Active", "currency": "USD"}).status_code == 403
    assert client.post(f"/customers/{customer}/edit", {"name": "X"}).status_code == 403


def test_settings_are_for_admins_only(as_role):
    assert as_role("staff").get("/settings/options").status_code == 403


def test_settings_admin_sees_them(as_role):
    assert as_role("admin").get("/settings/options").status_code == 200
