"""Browser tests: Chromium (the Debian package, never a downloaded one) driven by Playwright against
the panel served by a real Werkzeug server on a free port, on a fresh copy of the migrated database."""
import os
import shutil
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

from panel import unit_of_work
from panel.actor import SYSTEM
from panel import create_app
from panel.extensions import db
from tests.conftest import PASSWORD, _config

CHROMIUM = "/usr/bin/chromium"
STAFF_EMAIL = "staff@example.com"
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


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr for every poll."""

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
def live_server(sqlite_template, tmp_path, monkeypatch):
    """The panel on http://127.0.0.1:<free port>, with a staff user and one customer.

    Request it before `page` in a test's arguments, so the browser context is closed first."""
    from panel.customers.accounts import create_customer
    from panel.staff import create_staff_user

    monkeypatch.setenv("PANEL_INSTANCE_PATH", str(tmp_path / "instance"))
    path = tmp_path / "panel.db"
    shutil.copy(sqlite_template, path)
    app = create_app({**_config(f"sqlite:///{path}"), "CHANNELS_REFRESH_SECONDS": 1})
    with app.app_context():
        create_staff_user(STAFF_EMAIL, PASSWORD, "staff")
        unit_of_work.commit()
        customer_id = create_customer(SYSTEM, {"name": CUSTOMER_NAME, "status": "Active", "channel_limit": 30}, "USD").id
        unit_of_work.commit()

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
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
