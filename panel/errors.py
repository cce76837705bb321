"""Error pages: a clear message for people, a short fragment for htmx, never a stack trace."""
from flask import render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

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


def _page(status: int, message: str):
    db.session.rollback()
    if request.blueprint == "api":
        return {"error": TITLES.get(status, "Error"), "message": message}, status
    if wants_fragment():
        # Told in a toast (static/panel.js); the part of the page the request aimed at stays as it was.
        body = render_template("errors/_error.html", status=status, title=TITLES.get(status, "Error"), message=message)
        return body, status, {"HX-Reswap": "none"}
    if request.blueprint == "portal":
        template = "portal/message.html"
    else:
        template = "errors/error.html"
    return render_template(template, status=status, title=TITLES.get(status, "Error"), message=message), status


def register(app):
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        from panel.access import _to_login

        if not current_user.is_authenticated and request.blueprint != "auth":
            return _to_login()
        return _page(400, "The form had expired or was sent from elsewhere. Reload the page and try again.")

    @app.errorhandler(HTTPException)
    def http_error(error):
        return _page(error.code or 500, error.description or "")

    @app.errorhandler(OperationalError)
    def database_unavailable(error):
        app.logger.exception("database error")
        return _page(503, "The database is not answering right now. Try again in a moment.")

    @app.errorhandler(Exception)
    def unexpected(error):
        app.logger.exception("unhandled error")
        return _page(500, "The error has been logged. Nothing was saved by the failed request.")
