"""What several test files share and is not a fixture: the passwords the factories give, the app's test
settings, the client that carries the CSRF token, signed-in clients, a free port, and waiting for
another thread or process with a deadline. Fixtures live in the conftest.py files; objects come from
tests/factories.py."""
import os
import re
import socket
import time
import uuid
from collections.abc import Callable

import psycopg
import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from panel import create_app
from panel.extensions import db

PASSWORD = "correct horse battery staple"  # every staff user's (StaffUserFactory)
CONTACT_PASSWORD = "contact password 123"  # every contact's (ContactFactory)
STAFF_EMAIL = "staff@example.com"

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
TEMPORARY_PASSWORD = re.compile(r"temporary password:\s+(\S+)")


def temporary_password(body: str | None) -> str:
    """The temporary password a welcome or reset e-mail carries (the test fails if there is none)."""
    found = TEMPORARY_PASSWORD.search(body or "")
    assert found, f"no temporary password in the e-mail: {body!r}"
    return found.group(1)


def app_config(url: str) -> dict:
    """The settings of every test app: a cheap bcrypt cost, a fixed secret."""
    # Two-factor sign-in is required of nobody unless a test says so (a new install requires it of admins:
    # tests/twofactor pins that default down).
    return {"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "BCRYPT_ROUNDS": 4, "SECRET_KEY": "test-secret",
            "TWO_FACTOR_REQUIRED_DEFAULT": "nobody",
            # Never a processor from the environment: card tests point the app at localstripe (tests/cards).
            "STRIPE_SECRET_KEY": "", "STRIPE_PUBLISHABLE_KEY": ""}


class PostgresServer:
    """Creates throw-away databases on the local server; a missing server is a failure, not a skip."""

    def __init__(self):
        try:
            self.admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
        except psycopg.OperationalError as error:
            pytest.fail(f"PostgreSQL is required for these tests and is not reachable at {PG_ADMIN_URL}: {error}")
        self.created = []

    def reconnect(self) -> None:
        """A new admin connection, after the server was restarted (tests/faults/test_postgres_restart.py)."""
        try:
            self.admin.close()
        finally:
            self.admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)

    def create(self) -> str:
        name = f"panel_test_{uuid.uuid4().hex[:12]}"
        self.admin.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + "/" + name

    def drop_all(self):
        for name in self.created:
            self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.close()


def migrated_app(url: str):
    app = create_app(app_config(url))
    with app.app_context():
        upgrade()
    return app


class Statements:
    """The SQL statements (and their parameters) the app runs while recording: `with Statements(app) as s:`."""

    def __init__(self, app):
        self.app, self.seen = app, []

    def __enter__(self):
        with self.app.app_context():
            sa.event.listen(db.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc):
        with self.app.app_context():
            sa.event.remove(db.engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, parameters, context, executemany):
        self.seen.append((statement, parameters))

    def reading(self, table: str) -> list:
        return [(s, p) for s, p in self.seen if re.search(rf"\b{table}\b", s)]


def truncate_all(app):
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            # Every table of the schema, those that only PostgreSQL's migrations make (contact_email_word) included;
            # a partition goes with its table.
            tables = ", ".join(f'"{name}"' for name in connection.scalars(sa.text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
                "AND c.relname <> 'alembic_version'")))
            connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            # A tamper test may have switched the append-only guard off.
            connection.execute(sa.text("ALTER TABLE audit_entry ENABLE TRIGGER audit_entry_append_only"))


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


def staff_sign_in(app, email: str = STAFF_EMAIL, password: str = PASSWORD) -> PanelClient:
    """A fresh client signed in to the control panel."""
    client = PanelClient(app.test_client())
    response = client.login(email, password)
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


def portal_sign_in(app, email: str, password: str = CONTACT_PASSWORD) -> PanelClient:
    """A fresh client signed in to the portal as that contact."""
    client = PanelClient(app.test_client())
    response = client.post("/portal/login", {"email": email, "password": password})
    assert response.status_code == 303, response.get_data(as_text=True)
    client.forget_token()  # the session is renewed at sign-in
    return client


def free_port() -> int:
    """A port nothing listens on now (closed again, so a server that cannot bind port 0 can take it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.02,
               message: str = "the condition") -> object:
    """Poll `predicate` until it returns something true (and return that), failing the test after
    `timeout` seconds. For another thread or process: never a bare sleep."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} did not happen within {timeout} s")  # also from a thread
        time.sleep(interval)


PAGER_LINK = re.compile(r'<a href="([^"]+)"[^>]*>(« First|← Previous|← Newer|Next →|Older →|Last »)</a>')


def pager_link(html: str, text: str) -> str | None:
    """The URL of a list's pager link by its text ("Next →", "← Previous", "« First", "Last »", "Older →", "← Newer"),
    as a browser would follow it; None when the page has no such link."""
    import html as entities

    for url, label in PAGER_LINK.findall(html):
        if label == text:
            return entities.unescape(url)
    return None
