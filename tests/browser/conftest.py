"""Browser tests: Chromium (the Debian package, never a downloaded one) driven by Playwright against
the panel served by a real Werkzeug server on a free port, on the database --db names: a fresh copy of the
migrated SQLite template, or the session's migrated PostgreSQL database emptied for the test."""
import os
import shutil
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

from panel import create_app
from panel.extensions import db
from tests.factories import CustomerFactory, StaffUserFactory
from tests.helpers import PASSWORD, STAFF_EMAIL, app_config, truncate_all

CHROMIUM = "/usr/bin/chromium"
CUSTOMER_NAME = "Acme Telecom"
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    """Every test under tests/browser drives Chromium: mark it so `-m "not browser"` can leave it out."""
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, browser_name):
    if browser_name not in (None, "chromium"):
        return browser_type_launch_args
    if not os.access(CHROMIUM, os.X_OK):
        # A failure, never a skip: a machine without the browser must not pass these tests silently.
        pytest.fail(
            f"The browser tests need Chromium at {CHROMIUM} (apt-get install -y chromium); "
            "Playwright must not download its own browsers here.",
            pytrace=False,
        )
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-quic",
        ],
    }


def _read_whole_file(file, buffer_size=8192):
    """The test server's `wsgi.file_wrapper`: the file's bytes, read now, and the file closed at once.

    Werkzeug closes a response's iterable in a `finally` that first drains the request socket; when Chromium
    drops the connection (a navigation cancels a script still loading), that read raises and the close is
    skipped, so a static file stays open until garbage collection: a ResourceWarning, an error here.
    Static files are small, so holding one in memory costs nothing."""
    with file:
        return [file.read()]


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr for every poll; files served without an open handle (`_read_whole_file`)."""

    def make_environ(self):
        environ = super().make_environ()
        environ["wsgi.file_wrapper"] = _read_whole_file
        return environ

    def log_request(self, code="-", size="-"):
        pass


@dataclass
class LiveServer:
    url: str
    app: Flask
    customer_id: int
    customer_name: str = CUSTOMER_NAME
    staff_email: str = STAFF_EMAIL
    password: str = PASSWORD


@pytest.fixture
def live_database_url(request, tmp_path) -> str:
    """The URL of an empty, migrated database for one live server, on the database --db names.

    On PostgreSQL it is the session's database (tests/conftest.py `pg_session_app`), truncated with its
    sequences restarted, as the `app` fixture does; the live server builds its own app (and engine) on it, so
    it is configured exactly as on SQLite and no setting of one test reaches the next."""
    if request.config.getoption("--db") == "postgresql":
        pg_session_app = request.getfixturevalue("pg_session_app")
        truncate_all(pg_session_app)
        return pg_session_app.config["SQLALCHEMY_DATABASE_URI"]
    path = tmp_path / "panel.db"
    shutil.copy(request.getfixturevalue("sqlite_template"), path)
    return f"sqlite:///{path}"


@pytest.fixture
def live_server(live_database_url, tmp_path, monkeypatch):
    """The panel on http://127.0.0.1:<free port>, with a staff user and one customer.

    Request it before `page` in a test's arguments, so the browser context is closed first."""
    monkeypatch.setenv("PANEL_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({**app_config(live_database_url), "CHANNELS_REFRESH_SECONDS": 1})
    with app.app_context():
        StaffUserFactory(email=STAFF_EMAIL)
        customer_id = CustomerFactory(name=CUSTOMER_NAME, channel_limit=30).id

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    # Werkzeug makes its handler threads daemons, and socketserver joins only the others: without this a request
    # still running at teardown (a poll) gives its pooled connection back after the engine is disposed, and it
    # stays open until garbage collection (a ResourceWarning, an error under -W error, with psycopg).
    server.daemon_threads = False
    # Remember the accepted connections: Chromium keeps them alive, and the handler threads block
    # reading them; at the end we shut them down so those threads end and server_close() can join them.
    connections = set()
    lock = threading.Lock()
    accept = server.get_request

    def get_request():
        connection, address = accept()
        with lock:
            connections.add(connection)
        return connection, address

    server.get_request = get_request
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app, customer_id=customer_id)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with lock:
            for connection in connections:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # already closed by its handler
        server.server_close()  # joins the handler threads, which close their sockets
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


class WorkerThread:
    """The worker's delayed-saves job, run in a daemon thread of the test process every `interval` s."""

    def __init__(self, app: Flask, interval: float = 0.5):
        self.app = app
        self.interval = interval
        self.applied = 0
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="delayed-saves-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        from panel.delayed.changes import apply_due

        with self.app.app_context():
            while not self._stop.is_set():
                try:
                    self.applied += apply_due(worker="browser-test worker")
                except Exception as error:  # noqa: BLE001 - reported at teardown, the loop goes on
                    db.session.rollback()
                    self.errors.append(f"{type(error).__name__}: {error}")
                finally:
                    # Short sessions: never hold SQLite's lock (or a stale snapshot) between passes.
                    db.session.remove()
                self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=20)


@pytest.fixture
def worker_thread(live_server):
    """Applies due delayed saves every 0.5 s, as `flask worker` would; no worker process runs in the
    browser tests otherwise. Request it after live_server (it is stopped before the server is)."""
    worker = WorkerThread(live_server.app)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()
        assert not worker._thread.is_alive(), "the worker thread did not stop within 20 s"
        assert not worker.errors, f"the worker thread failed: {worker.errors}"
