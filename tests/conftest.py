"""Fixtures: an app on a fresh, migrated database per test (SQLite by default, PostgreSQL with
--db=postgresql), staff users of each role, and a client that carries the CSRF token."""
import os
import re
import shutil
import uuid

import psycopg
import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from panel import unit_of_work
from panel.actor import SYSTEM
from panel import create_app
from panel.extensions import db

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PASSWORD = "correct horse battery staple"


def pytest_addoption(parser):
    parser.addoption("--db", choices=["sqlite", "postgresql"], default="sqlite",
                     help="database for the whole suite (PostgreSQL-only tests always use PostgreSQL)")


def _config(url: str) -> dict:
    return {"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "BCRYPT_ROUNDS": 4, "SECRET_KEY": "test-secret"}


class PostgresServer:
    """Creates throw-away databases on the local server; a missing server is a failure, not a skip."""

    def __init__(self):
        try:
            self.admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
        except psycopg.OperationalError as error:
            pytest.fail(f"PostgreSQL is required for these tests and is not reachable at {PG_ADMIN_URL}: {error}")
        self.created = []

    def create(self) -> str:
        name = f"panel_test_{uuid.uuid4().hex[:12]}"
        self.admin.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + "/" + name

    def drop_all(self):
        for name in self.created:
            self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.close()


@pytest.fixture(scope="session")
def postgres():
    server = PostgresServer()
    yield server
    server.drop_all()


def migrated_app(url: str):
    app = create_app(_config(url))
    with app.app_context():
        upgrade()
    return app


def truncate_all(app):
    with app.app_context():
        db.session.remove()
        tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        with db.engine.begin() as connection:
            connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            # A tamper test may have switched the append-only guard off.
            connection.execute(sa.text("ALTER TABLE audit_entry ENABLE TRIGGER audit_entry_append_only"))


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
    app = create_app(_config(f"sqlite:///{path}"))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class PanelClient:
    """The Flask test client with the CSRF token a browser would send."""

    def __init__(self, client):
        self.client = client
        self._token = None

    def token(self) -> str:
        if self._token is None:
            page = self.client.get("/login").get_data(as_text=True)
            if "csrf_token" not in page:
                page = self.client.get("/customers").get_data(as_text=True)
            self._token = TOKEN.search(page).group(1)
        return self._token

    def forget_token(self):
        self._token = None

    def get(self, url, htmx=False, **kwargs):
        headers = kwargs.pop("headers", {})
        if htmx:
            headers["HX-Request"] = "true"
        return self.client.get(url, headers=headers, **kwargs)

    def post(self, url, data=None, htmx=False, csrf=True, **kwargs):
        data = dict(data or {})
        headers = kwargs.pop("headers", {})
        if htmx:
            headers["HX-Request"] = "true"
            if csrf:
                headers["X-CSRFToken"] = self.token()
        elif csrf:
            data.setdefault("csrf_token", self.token())
        return self.client.post(url, data=data, headers=headers, **kwargs)

    def login(self, email, password=PASSWORD):
        response = self.post("/login", {"email": email, "password": password})
        self.forget_token()  # the session is renewed at sign-in
        return response


@pytest.fixture
def client(app):
    return PanelClient(app.test_client())


@pytest.fixture
def staff_users(app):
    from panel.staff import create_staff_user

    with app.app_context():
        for role in ("admin", "staff", "readonly"):
            create_staff_user(f"{role}@example.com", PASSWORD, role)
            unit_of_work.commit()
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
    from panel.customers.accounts import create_customer

    with app.app_context():
        c = create_customer(SYSTEM, {"name": "Acme Telecom", "status": "Active", "channel_limit": 30}, "USD")
        unit_of_work.commit()
        return c.id
