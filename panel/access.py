"""Who may reach what: sign-in for every page, read-only staff never write, admin-only areas."""
from functools import wraps

from flask import abort, current_app, g, redirect, request, url_for
from flask_login import current_user

from panel.extensions import db, login_manager

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Endpoints reachable without a staff session.
PUBLIC_ENDPOINTS = frozenset({"auth.login", "static", "health", "health_db"})
# The API authenticates with bearer tokens, the portal with its own contact session (panel/portal/routes.py).
PUBLIC_BLUEPRINTS = frozenset({"api", "portal"})


@login_manager.user_loader
def load_user(user_id: str):
    from panel.auth.models import StaffUser

    try:
        return db.session.get(StaffUser, int(user_id))
    except ValueError:
        return None


def _to_login():
    next_url = request.full_path if request.method == "GET" else request.referrer
    if getattr(request, "htmx", None):
        # The current page URL, so the user lands back where they were after signing in.
        next_url = request.headers.get("HX-Current-URL") or next_url
        response = current_app.response_class(status=401)
        response.headers["HX-Redirect"] = url_for("auth.login", next=_path_of(next_url))
        return response
    return redirect(url_for("auth.login", next=_path_of(next_url)))


def _path_of(url: str | None) -> str | None:
    if not url:
        return None
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


login_manager.unauthorized_handler(_to_login)


def require_staff_session():
    """before_request for the whole app: the guard no route can forget."""
    endpoint = request.endpoint or ""
    if endpoint in PUBLIC_ENDPOINTS or request.blueprint in PUBLIC_BLUEPRINTS:
        return None
    if request.endpoint is None:
        return None  # 404 / 405 are answered by the error handlers
    if not current_user.is_authenticated:
        return _to_login()
    if request.method not in SAFE_METHODS and not current_user.can_write and endpoint != "auth.logout":
        abort(403)
    g.staff = current_user
    return None


def admin_required(view):
    @wraps(view)
    def guarded(*args, **kwargs):
        if not current_user.is_authenticated or not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return guarded


def require_admin():
    """before_request for admin-only blueprints."""
    if not current_user.is_authenticated:
        return _to_login()
    if not current_user.is_admin:
        abort(403)
    return None
