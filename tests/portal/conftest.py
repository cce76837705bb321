"""Fixtures for the portal: two customers with contacts, clients signed in as each kind of user."""
from dataclasses import dataclass

import pytest

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.contacts.records import create_contact
from panel.customers.accounts import create_customer
from panel.extensions import db
from tests.conftest import PanelClient

CONTACT_PASSWORD = "contact password 123"
MARKER = "PRIVATE-NOTE-MARKER-7f3a"


@dataclass
class World:
    a: int  # customer ids
    b: int
    ana: int  # contact of A
    ben: int  # contact of B
    ana_email: str = "ana@alpha.example"
    ben_email: str = "ben@beta.example"


@pytest.fixture
def world(app, staff_users):
    with app.app_context():
        a = create_customer(SYSTEM, {"name": "Alpha Voice", "status": "Active"}, "USD").id
        unit_of_work.commit()
        b = create_customer(SYSTEM, {"name": "Beta Networks", "status": "Active"}, "EUR").id
        unit_of_work.commit()
        ana, _ = create_contact(SYSTEM, a, {"name": "Ana Alpha", "email": "ana@alpha.example", "public_notes": "Alpha public note",
                                    "private_notes": MARKER}, password=CONTACT_PASSWORD)
        ben, _ = create_contact(SYSTEM, b, {"name": "Ben Beta", "email": "ben@beta.example", "public_notes": "Beta public note",
                                    "private_notes": MARKER}, password=CONTACT_PASSWORD)
        create_contact(SYSTEM, a, {"name": "Ada Alpha", "email": "ada@alpha.example", "private_notes": MARKER}, password=CONTACT_PASSWORD)
        db.session.commit()
        return World(a=a, b=b, ana=ana.id, ben=ben.id)


@pytest.fixture
def portal_client(app):
    """portal_client(email) signs a fresh client in to the portal as that contact."""

    def sign_in(email: str, password: str = CONTACT_PASSWORD) -> PanelClient:
        client = PanelClient(app.test_client())
        response = client.post("/portal/login", {"email": email, "password": password})
        assert response.status_code == 303, response.get_data(as_text=True)
        client.forget_token()
        return client

    return sign_in


@pytest.fixture
def impersonating(app, staff_users, world):
    """A staff client in Portal Login as Ana (contact of customer A)."""
    client = PanelClient(app.test_client())
    client.login(staff_users["staff"])
    response = client.post(f"/customers/{world.a}/contacts/{world.ana}/portal-login")
    assert response.status_code == 303 and response.headers["Location"] == "/portal/"
    client.forget_token()
    return client
