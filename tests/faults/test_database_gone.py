"""The database goes away: a request in flight, or one that cannot connect, answers 503 with a clear page
(JSON for the API, a toast fragment for htmx), never a traceback; the panel recovers by itself.

Here every backend of the test database is terminated (pg_terminate_backend, what a restart does to each
session), which lets a test aim at one request in flight; tests/faults/test_postgres_restart.py restarts the
real server under load."""
import logging
import sqlite3
import threading
import time

import psycopg
import pytest
import sqlalchemy as sa

from panel import create_app
from panel.errors import database_trouble

UNAVAILABLE = "The database is not answering right now; nothing was saved. Try again in a moment."
from panel import access
from panel.extensions import db
from tests.helpers import app_config, free_port, staff_sign_in, wait_until


def database_name(app) -> str:
    return sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database


def terminate_backends(postgres, app) -> int:
    """What a restart does to every session of the test database; the admin connection is elsewhere."""
    return postgres.admin.execute(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
        [database_name(app)],
    ).fetchone()[0]


def wait_for_sleeping_query(postgres, app, timeout: float = 10.0) -> None:
    wait_until(lambda: postgres.admin.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND state = 'active' AND query LIKE 'SELECT pg_sleep%%'",
        [database_name(app)],
    ).fetchone()[0], timeout, interval=0.05, message="the slow request reaching PostgreSQL")


def add_slow_page(app, monkeypatch) -> None:
    monkeypatch.setitem(access.AREA_OF, "slow_page", "customers")  # a staff page of an area, like every other

    @app.get("/test-only/slow")
    def slow_page():
        db.session.execute(sa.text("SELECT pg_sleep(5)"))
        return "finished"


def in_flight(client, url: str, **kwargs):
    """Start a request in a thread; returns a function that waits for its answer."""
    answer = {}
    thread = threading.Thread(target=lambda: answer.setdefault("response", client.get(url, **kwargs)))
    thread.start()

    def result():
        thread.join(timeout=30)
        assert not thread.is_alive(), "the request never ended"
        return answer["response"]

    return result


def no_tracebacks(caplog) -> None:
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []
    assert "Traceback" not in caplog.text


@pytest.mark.postgres
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_a_request_in_flight_when_the_database_goes_away_gets_a_503_and_the_next_one_works(
        pg_fault_app, postgres, caplog, htmx, monkeypatch):
    add_slow_page(pg_fault_app, monkeypatch)
    client = staff_sign_in(pg_fault_app)
    caplog.set_level(logging.INFO)
    invalidated = []
    with pg_fault_app.app_context():
        sa.event.listen(db.engine, "invalidate", lambda *args: invalidated.append(args))
    started = time.monotonic()
    answer = in_flight(client, "/test-only/slow", htmx=htmx)
    wait_for_sleeping_query(postgres, pg_fault_app)
    assert terminate_backends(postgres, pg_fault_app) >= 1
    response = answer()
    assert time.monotonic() - started < 4  # failed when its backend went, not after the 5 s sleep
    body = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert UNAVAILABLE in body and "Traceback" not in body and "pg_sleep" not in body
    if htmx:
        assert response.headers["HX-Reswap"] == "none" and "<html" not in body
    else:
        assert "<html" in body and "Try again" in body
    failures = [r for r in caplog.records if r.name == "panel" and r.levelno >= logging.WARNING]
    assert len(failures) == 1 and "database unavailable: GET /test-only/slow" in failures[0].getMessage()
    no_tracebacks(caplog)  # SQLAlchemy logs one if a dead connection is handed back to the pool for a rollback

    # The broken connection was discarded (invalidated), not handed back to the pool; the next request works.
    assert len(invalidated) == 1
    assert client.get("/customers").status_code == 200


@pytest.mark.postgres
def test_idle_pooled_connections_killed_by_a_restart_are_replaced_without_an_error(pg_fault_app, postgres, caplog):
    """pool_pre_ping at work: a pooled connection whose backend went away is tested and replaced on checkout."""
    client = staff_sign_in(pg_fault_app)
    assert client.get("/customers").status_code == 200  # a connection now waits in the pool
    caplog.set_level(logging.WARNING)
    assert terminate_backends(postgres, pg_fault_app) >= 1
    assert client.get("/customers").status_code == 200
    assert client.get("/customers/new").status_code == 200
    assert [r.getMessage() for r in caplog.records if r.name == "panel"] == []
    no_tracebacks(caplog)


@pytest.mark.postgres
def test_without_pre_ping_the_first_request_after_a_restart_fails_cleanly_and_the_next_recovers(pg_app, postgres, caplog):
    """What pool_pre_ping saves us from; even without it the panel answers 503 once and heals itself."""
    url = pg_app.config["SQLALCHEMY_DATABASE_URI"]
    app = create_app({**app_config(url), "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": False}})
    try:
        with app.app_context():
            assert db.session.scalar(sa.text("SELECT 1")) == 1
            db.session.remove()  # the connection goes back to the pool
        assert terminate_backends(postgres, app) >= 1
        caplog.set_level(logging.WARNING)
        client = app.test_client()
        failed = client.get("/api/v1/invoices", headers={"Authorization": "Bearer nothing"})
        assert failed.status_code == 503 and failed.json["message"] == UNAVAILABLE
        assert failed.headers["Retry-After"] == "5"
        no_tracebacks(caplog)
        again = client.get("/api/v1/invoices", headers={"Authorization": "Bearer nothing"})
        assert again.status_code == 401
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.mark.parametrize("url", [
    pytest.param(lambda tmp: f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing", id="postgresql"),
    pytest.param(lambda tmp: f"sqlite:///{tmp}/no/such/folder/panel.db", id="sqlite"),
])
def test_a_database_that_cannot_be_reached_gets_the_503_page_json_and_fragment(url, tmp_path, caplog):
    app = create_app({**app_config(url(tmp_path)), "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    caplog.set_level(logging.WARNING)
    sign_in = {"email": "staff@example.com", "password": "whatever it is"}
    try:
        page = client.post("/login", data=sign_in)
        assert page.status_code == 503 and page.headers["Retry-After"] == "5"
        assert UNAVAILABLE in page.get_data(as_text=True) and "<html" in page.get_data(as_text=True)
        fragment = client.post("/login", data=sign_in, headers={"HX-Request": "true"})
        assert fragment.status_code == 503 and fragment.headers["HX-Reswap"] == "none"
        assert UNAVAILABLE in fragment.get_data(as_text=True)
        api = client.get("/api/v1/invoices", headers={"Authorization": "Bearer nothing"})
        assert api.status_code == 503 and api.headers["Retry-After"] == "5"
        assert api.json == {"error": "Temporarily unavailable", "message": UNAVAILABLE}
        assert len([r for r in caplog.records if r.name == "panel"]) == 3
        no_tracebacks(caplog)
    finally:
        with app.app_context():
            db.engine.dispose()


def sqlite_error(statement: str) -> sqlite3.OperationalError:
    connection = sqlite3.connect(":memory:")
    try:
        connection.execute(statement)
    except sqlite3.OperationalError as error:
        return error
    finally:
        connection.close()
    raise AssertionError("no error")


@pytest.mark.parametrize("original, kind", [
    pytest.param(sqlite_error("SELECT * FROM nowhere"), None, id="sqlite-bad-statement"),
    pytest.param(psycopg.OperationalError("connection refused"), "unavailable", id="pg-refused"),
    pytest.param(psycopg.errors.AdminShutdown("terminating connection"), "unavailable", id="pg-terminated"),
    pytest.param(psycopg.errors.CannotConnectNow("starting up"), "unavailable", id="pg-starting-up"),
    pytest.param(psycopg.errors.TooManyConnections("too many"), "unavailable", id="pg-too-many"),
    pytest.param(psycopg.errors.DeadlockDetected("deadlock"), "busy", id="pg-deadlock"),
    pytest.param(psycopg.errors.LockNotAvailable("nowait"), "busy", id="pg-lock-not-available"),
    pytest.param(psycopg.errors.ProgramLimitExceeded("index row too big"), None, id="pg-program-limit"),
])
def test_what_counts_as_the_database_being_away_or_busy_and_what_is_a_bug(original, kind):
    """A bug answers 500 as before; only the database's own state gets the 503 "try again"."""
    assert database_trouble(sa.exc.OperationalError("SELECT 1", {}, original)) == kind
    assert database_trouble(original) == kind


def test_a_worker_pass_during_an_outage_logs_one_line_per_job_and_carries_on(app, monkeypatch, caplog):
    """The worker keeps running through an outage: each job says "database unavailable" in one line."""
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from panel import worker

    def gone():
        raise OperationalError("SELECT 1", {}, sqlite3.OperationalError("server closed the connection"),
                               connection_invalidated=True)

    monkeypatch.setattr(worker, "JOBS", [("delayed saves", gone), ("mail", gone)])
    with app.app_context(), caplog.at_level("WARNING", logger="panel.worker"):
        results = worker.run_pass()
    assert results == {"delayed saves": "database unavailable; retried next pass",
                       "mail": "database unavailable; retried next pass"}
    assert [r.exc_info for r in caplog.records] == [None, None]
