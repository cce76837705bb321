"""Error pages: a clear message for people, a short fragment for htmx, never a stack trace."""
import sqlite3

import psycopg
from flask import current_app, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import OperationalError as SAOperationalError
from werkzeug.exceptions import HTTPException

from panel import unit_of_work
from panel.access import to_login
from panel.extensions import db
from panel.web import wants_fragment

TITLES = {
    400: "Bad request",
    401: "Sign-in needed",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    409: "Conflict",
    422: "Check the form",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Temporarily unavailable",
}

PORTAL_EXPIRED = ("This form had expired or was sent from another site, so nothing was saved. "
                  "Go back, reload the page and try again.")
UNAVAILABLE = "The database is not answering right now; nothing was saved. Try again in a moment."
BUSY = "The database is busy with another change; nothing was saved. Try again in a moment."
RETRY_AFTER_SECONDS = 5

# SQLite result codes (the low byte of an extended code): the lock is taken, or the file is not usable.
_SQLITE_BUSY = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED
_SQLITE_UNAVAILABLE = {8, 10, 11, 13, 14, 15, 26}  # READONLY, IOERR, CORRUPT, FULL, CANTOPEN, PROTOCOL, NOTADB
# PostgreSQL SQLSTATE classes: 08 connection, 53 out of resources, 57 shut down / cancelled; 40 and 55P03 are
# lost races (deadlock, serialisation, lock not available) that a second try wins.
_PG_UNAVAILABLE = ("08", "53", "57")
_PG_BUSY = ("40", "55P03")


def database_trouble(error: BaseException) -> str | None:
    """"unavailable" for a database that cannot be reached or went away, "busy" for a lock that could not be had
    in time, None for anything else (a bug, answered with a 500). `error` is SQLAlchemy's or the driver's own."""
    original = getattr(error, "orig", None) or error
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return "unavailable"
    if isinstance(original, sqlite3.OperationalError):
        code = (getattr(original, "sqlite_errorcode", None) or 0) & 0xFF
        if code in _SQLITE_BUSY or "database is locked" in str(original):
            return "busy"
        return "unavailable" if code in _SQLITE_UNAVAILABLE else None  # else a bad statement: sqlite3 says Operational
    if isinstance(original, psycopg.OperationalError):
        state = original.sqlstate or ""
        if not state or state.startswith(_PG_UNAVAILABLE):  # no SQLSTATE: refused, timed out or cut on our side
            return "unavailable"
        return "busy" if state.startswith(_PG_BUSY) else None
    if isinstance(error, SAOperationalError):
        return "unavailable"  # another driver: its OperationalError is the DB-API's "the database's fault"
    return None


def _area() -> str | None:
    """The blueprint that answers; for a URL no route took (an id past what the int converter allows), the
    one its path belongs to, so the API still answers JSON and the portal a portal page."""
    if request.blueprint:
        return request.blueprint
    for prefix, area in (("/api/", "api"), ("/portal/", "portal")):
        if request.path.startswith(prefix):
            return area
    return None


def _page(status: int, message: str):
    unit_of_work.rollback()
    if _area() == "api":
        return {"error": TITLES.get(status, "Error"), "message": message}, status
    if wants_fragment():
        # Told in a toast (static/panel.js); the part of the page the request aimed at stays as it was.
        body = render_template("errors/_error.html", status=status, title=TITLES.get(status, "Error"), message=message)
        return body, status, {"HX-Reswap": "none"}
    if _area() == "portal":
        template = "portal/message.html"
    else:
        template = "errors/error.html"
    return render_template(template, status=status, title=TITLES.get(status, "Error"), message=message), status


def _database_page(kind: str):
    """503 with Retry-After. Nothing here may touch the database, so the templates are rendered without the
    context processors: Flask-Login's would load the signed-in user (the query that may have just failed)."""
    message = BUSY if kind == "busy" else UNAVAILABLE
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    context = {"status": 503, "title": TITLES[503], "message": message, "request": request}
    if _area() == "api":
        return {"error": context["title"], "message": message}, 503, headers
    if wants_fragment():
        body = current_app.jinja_env.get_template("errors/_error.html").render(context)
        return body, 503, {**headers, "HX-Reswap": "none"}
    return current_app.jinja_env.get_template("errors/unavailable.html").render(context), 503, headers


def _end_session(kind: str) -> None:
    """Roll back; a connection that went away (or may have) is discarded instead of going back to the pool,
    where its rollback would fail again and log a traceback."""
    if kind == "unavailable":
        unit_of_work.discard()
        return
    try:
        unit_of_work.rollback()
    except Exception:  # noqa: BLE001 - the answer matters more than the clean-up; the pool checks on next use
        db.session.close()


def one_line(error: BaseException) -> str:
    """The driver's message only: SQLAlchemy's text adds the statement and its parameters, which may hold hashes."""
    original = getattr(error, "orig", None) or error
    text = str(original).strip().splitlines()
    return f"{type(original).__name__}: {text[0] if text else ''}"[:300]


def register(app):
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        if _area() == "portal":
            # Whoever posted it, the answer stays in the portal (never the staff sign-in page).
            return _page(400, PORTAL_EXPIRED)
        if not current_user.is_authenticated and request.blueprint != "auth":
            return to_login()
        return _page(400, "The form had expired or was sent from elsewhere. Reload the page and try again.")

    @app.errorhandler(HTTPException)
    def http_error(error):
        return _page(error.code or 500, error.description or "")

    @app.errorhandler(DBAPIError)
    @app.errorhandler(psycopg.OperationalError)
    @app.errorhandler(sqlite3.OperationalError)
    def database_error(error):
        kind = database_trouble(error)
        if kind is None:
            return unexpected(error)
        _end_session(kind)
        # One line, no traceback: during an outage every request fails the same way.
        app.logger.warning("database %s: %s %s: %s", kind, request.method, request.path, one_line(error))
        return _database_page(kind)

    @app.errorhandler(Exception)
    def unexpected(error):
        app.logger.exception("unhandled error")
        return _page(500, "The error has been logged. Nothing was saved by the failed request.")
