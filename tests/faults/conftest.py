"""Fixtures for fault tests: a separate app on the session's PostgreSQL test database, so a test may add
routes of its own and break its connections without touching the shared app's settings."""
import pytest

from panel import create_app
from panel.extensions import db
from tests.factories import StaffUserFactory
from tests.helpers import app_config


@pytest.fixture
def pg_fault_app(pg_app):
    """A fresh app (own engine and pool) on pg_app's database, already emptied by pg_app; a staff user."""
    app = create_app(app_config(pg_app.config["SQLALCHEMY_DATABASE_URI"]))
    with app.app_context():
        StaffUserFactory()
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
