"""Fixtures: an app on a fresh, migrated database per test (SQLite by default, PostgreSQL with
--db=postgresql), staff users of each role, and a client that carries the CSRF token. Fixtures only:
helpers are in tests/helpers.py, objects come from tests/factories.py."""
import shutil

import pytest

from panel import create_app
from panel.extensions import db
from tests.factories import CustomerFactory, StaffUserFactory
from tests.helpers import (CONTACT_PASSWORD, PanelClient, PostgresServer, app_config, migrated_app, portal_sign_in,
                           truncate_all)

def pytest_addoption(parser):
    parser.addoption("--db", choices=["sqlite", "postgresql"], default="sqlite",
                     help="database for the whole suite (PostgreSQL-only tests always use PostgreSQL)")


@pytest.fixture(scope="session")
def postgres():
    server = PostgresServer()
    yield server
    server.drop_all()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "panel.db"
    app = migrated_app(f"sqlite:///{path}")
    with app.app_context():
        db.engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_session_app(postgres):
    app = migrated_app(postgres.create())
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def pg_app(pg_session_app):
    """An app on PostgreSQL whatever --db says: for what depends on PostgreSQL itself."""
    truncate_all(pg_session_app)
    yield pg_session_app
    with pg_session_app.app_context():
        db.session.remove()


@pytest.fixture
def app(request, tmp_path, monkeypatch):
    monkeypatch.setenv("PANEL_INSTANCE_PATH", str(tmp_path / "instance"))
    if request.config.getoption("--db") == "postgresql":
        app = request.getfixturevalue("pg_app")
        saved = dict(app.config)  # the app is shared by the session: no test's settings leak into the next
        app.instance_path = str(tmp_path / "instance")
        yield app
        app.config.clear()
        app.config.update(saved)
        return
    path = tmp_path / "panel.db"
    shutil.copy(request.getfixturevalue("sqlite_template"), path)
    app = create_app(app_config(f"sqlite:///{path}"))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return PanelClient(app.test_client())


@pytest.fixture
def staff_users(app):
    with app.app_context():
        for role in ("admin", "staff", "readonly"):
            StaffUserFactory(role=role)
    return {role: f"{role}@example.com" for role in ("admin", "staff", "readonly")}


@pytest.fixture
def as_role(app, client, staff_users):
    """as_role('staff') signs the client in with that role and returns it."""

    def sign_in(role: str) -> PanelClient:
        response = client.login(staff_users[role])
        assert response.status_code == 303, response.get_data(as_text=True)
        return client

    return sign_in


@pytest.fixture
def customer(app):
    with app.app_context():
        return CustomerFactory(name="Acme Telecom", channel_limit=30).id


@pytest.fixture
def portal_client(app):
    """portal_client(email) signs a fresh client in to the portal as that contact."""

    def sign_in(email: str, password: str = CONTACT_PASSWORD) -> PanelClient:
        return portal_sign_in(app, email, password)

    return sign_in


@pytest.fixture
def portal_as(portal_client):
    """The same as portal_client, by the name the deployments and onboarding tests use."""
    return portal_client
