"""Who may reach what, checked for every route of the app (walked from the URL map)."""
import pytest
import sqlalchemy as sa

from panel.audit.models import AuditEntry
from panel.extensions import db

PUBLIC = {"auth.login", "static", "health"}
ADMIN_ONLY_BLUEPRINTS = {"settings"}


def routes(app, customer_id, entry_id):
    """Every (endpoint, url, methods) of the app with its arguments filled in."""
    values = {"customer_id": customer_id, "entry_id": entry_id, "filename": "panel.css"}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            continue  # bearer tokens: tests/api
        url = rule.build({arg: values[arg] for arg in rule.arguments}, append_unknown=False)[1]
        yield rule.endpoint, url, rule.methods - {"HEAD", "OPTIONS"}


@pytest.fixture
def entry_id(app, customer):
    with app.app_context():
        return db.session.scalar(sa.select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))


def test_anonymous_requests_are_sent_to_sign_in(app, client, customer, entry_id):
    for endpoint, url, methods in routes(app, customer, entry_id):
        if endpoint in PUBLIC:
            continue
        for method in methods:
            response = client.client.open(url, method=method)
            response.close()
            assert response.status_code in (302, 400), (method, url, response.status_code)
            if response.status_code == 302:
                assert response.headers["Location"].startswith("/login"), (method, url)


@pytest.mark.parametrize("role", ["readonly", "staff", "admin"])
def test_every_route_enforces_the_role(app, as_role, role, customer, entry_id):
    client = as_role(role)
    for endpoint, url, methods in routes(app, customer, entry_id):
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
            elif method != "GET" and role == "readonly":
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
