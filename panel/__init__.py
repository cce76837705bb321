"""The customer management control panel: create_app() builds the Flask application."""
import importlib
import json
import os
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import make_url
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from panel import config
from panel.extensions import csrf, db, htmx, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent
# Only our own scripts and styles: injected markup cannot run, even if escaping were ever missed.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=os.environ.get("PANEL_INSTANCE_PATH", str(ROOT / "instance")),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(config.from_environment(app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)
        if "SQLALCHEMY_DATABASE_URI" in test_config and "SQLALCHEMY_ENGINE_OPTIONS" not in test_config:
            app.config["SQLALCHEMY_ENGINE_OPTIONS"] = config.engine_options(test_config["SQLALCHEMY_DATABASE_URI"])

    if app.config["PROXY_COUNT"]:
        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    from panel import sessions  # (see below: the areas are imported inside the factory)

    app.session_interface = sessions.ServerSessions()
    sqlite_files = private_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])
    app.url_map.converters["int"] = BoundedInt  # before any route is added: every <int:…> is bounded
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    csrf.init_app(app)
    htmx.init_app(app)

    # The areas are imported here, not at the top: each of them imports panel.extensions, which (being inside
    # this package) runs this module first, so top-level imports of the areas would be a cycle.
    from panel import models  # noqa: F401  (every model, so migrations and mappers see them)
    from panel.audit import recorder

    recorder.install()
    sessions.install(app)
    _register_hooks()
    with app.app_context():
        _tune_sqlite(db.engine, int(app.config["SQLITE_BUSY_TIMEOUT_MS"]), sqlite_files)

    from panel import access, errors  # (areas: see above)

    app.before_request(access.require_staff_session)
    errors.register(app)
    _register_blueprints(app)
    _register_template_helpers(app)

    from panel import cli  # (areas: see above)

    cli.register(app)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.endpoint != "static":
            # Pages, their fragments, redirects and sign-in answers all depend on HX-Request.
            response.vary.add("HX-Request")
            # What is shown behind sign-in (and the sign-in pages' CSRF tokens) is never kept by a cache.
            response.headers["Cache-Control"] = "no-store"
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response

    from panel import unit_of_work  # (areas: see above)

    unit_of_work.install(app)  # after the other after_request functions, so it runs first

    @app.get("/health")
    def health():
        return {"ok": True}

    @app.get("/health/db")
    def health_db():
        """The load benchmark's baseline: no sign-in, one primary-key lookup, a tiny answer."""
        row = db.session.execute(sa.text("SELECT id FROM customer WHERE id = :id"), {"id": 1}).first()
        return {"ok": True, "customer": row is not None}

    return app


def _register_hooks() -> None:
    """What areas offer each other without importing each other: delayed-save targets, mail hooks.
    (Imported here for the reason given in create_app.)"""
    from panel.contacts import delayed_saves as contact_saves
    from panel.contacts.records import register_mail_hooks
    from panel.customers import delayed_saves as customer_saves
    from panel.twofactor import gate as second_factor

    contact_saves.register()
    customer_saves.register()
    register_mail_hooks()
    second_factor.register()


class BoundedInt(IntegerConverter):
    """<int:…> in every URL: a number no id column can hold is not found (404), instead of overflowing the
    database (SQLite's driver past 2**63, PostgreSQL's INTEGER past 2**31: a 500). Every id in a URL today is an
    INTEGER; a route that takes a BIGINT id (call records) declares <int(max=9223372036854775807):…>."""

    def __init__(self, map, fixed_digits=0, min=None, max=2**31 - 1, signed=False):  # noqa: A002 - Werkzeug's names
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def _register_blueprints(app: Flask) -> None:
    blueprints = {}
    for area in ("auth", "twofactor", "customers", "contacts", "delayed", "audit", "settings", "api", "portal", "numbering",
                 "summary", "invoices", "deployments", "support", "onboarding", "store", "cards", "alerts"):
        importlib.import_module(f"panel.{area}.routes")  # attaches the views to the area's blueprint
        blueprints[area] = importlib.import_module(f"panel.{area}").bp
        app.register_blueprint(blueprints[area])
    api_bp = blueprints["api"]
    csrf.exempt(api_bp)  # bearer tokens, no cookies: nothing for a forged request to ride on


def private_sqlite_file(url: str) -> list[Path]:
    """A SQLite database file is created readable and writable by its owner only (it holds password hashes and
    the customers' data); returns the database's files (with -wal and -shm) for _tune_sqlite to keep so."""
    parsed = make_url(url)
    name = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:" or name.startswith("file:"):
        return []
    path = Path(name)
    if not path.exists() and path.parent.is_dir():  # a missing folder stays missing: that database is unreachable
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))  # created 0600 whatever the umask
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def _keep_private(files: list[Path]) -> None:
    """SQLite makes -wal and -shm with the database's permissions; an older, looser file is tightened."""
    for path in files:
        try:
            if path.stat().st_mode & 0o077 and path.stat().st_uid == os.getuid():
                path.chmod(0o600)
        except OSError:
            pass  # not there yet (or not ours): nothing to tighten


def _tune_sqlite(engine, busy_timeout_ms: int = 15000, files: list[Path] | None = None) -> None:
    """WAL, a busy timeout, and BEGIN IMMEDIATE for writes, so two writers wait instead of failing.
    A writer that still cannot get the lock gets "database is locked", answered with a 503 (panel/errors.py)."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
        _keep_private(files or [])

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        from panel import unit_of_work  # (areas: see create_app)

        reading = has_request_context() and not unit_of_work.writes()
        connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


def _staff_may(area: str, write: bool = False) -> bool:
    """For the menu: whether the staff actor of this request may see (or change) `area`."""
    from panel import actor as actors

    return actors.current().may(area, write=write)


def _register_template_helpers(app: Flask) -> None:
    from panel import money as amounts  # (areas: see create_app)
    from panel.auth.forms import EmptyForm
    from panel.pages import kept_position, no_matches

    @app.context_processor
    def helpers():
        return {"empty_form": EmptyForm, "staff_may": _staff_may}

    app.jinja_env.globals.update(kept_position=kept_position, no_matches=no_matches)  # imported macros see globals

    @app.template_filter("money")
    def money(value, currency: str = "", code: bool = True) -> str:
        """1,234.56 USD: the currency's own number of places (panel/money.py); 2 places without a currency
        (support credits, which are not money of a currency)."""
        if value is None:
            return ""
        if not currency:
            return f"{value:,.2f}"
        text = amounts.show(value, currency)
        return f"{text} {currency}" if code else text

    @app.template_filter("fromjson")
    def fromjson(text: str):
        return json.loads(text or "null")

    @app.template_filter("utc")
    def utc(value) -> str:
        return value.strftime("%Y-%m-%d %H:%M:%S") + " UTC" if value else ""
