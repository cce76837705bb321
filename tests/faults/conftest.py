"""Fixtures for fault tests: a separate app on the session's PostgreSQL test database, so a test may add
routes of its own and break its connections without touching the shared app's settings."""
import pytest

from panel import unit_of_work
from panel import create_app
from panel.extensions import db
from panel.staff import create_staff_user
from tests.conftest import PASSWORD, PanelClient, _config


@pytest.fixture
def pg_fault_app(pg_app):
    """A fresh app (own engine and pool) on pg_app's database, already emptied by pg_app; a staff user."""
    app = create_app(_config(pg_app.config["SQLALCHEMY_DATABASE_URI"]))
    with app.app_context():
        create_staff_user("staff@example.com", PASSWORD, "staff")
        unit_of_work.commit()
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def signed_in(app) -> PanelClient:
    client = PanelClient(app.test_client())
    response = client.login("staff@example.com")
    assert response.status_code == 303, response.get_data(as_text=True)
    return client
