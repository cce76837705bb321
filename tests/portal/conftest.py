"""Fixtures for the portal: two customers with contacts, clients signed in as each kind of user."""
from dataclasses import dataclass

import pytest

from tests.factories import ContactFactory, CustomerFactory
from tests.helpers import PanelClient

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
        a = CustomerFactory(name="Alpha Voice").id
        b = CustomerFactory(name="Beta Networks", currency="EUR").id
        ana = ContactFactory(customer_id=a, name="Ana Alpha", email="ana@alpha.example",
                             public_notes="Alpha public note", private_notes=MARKER).id
        ben = ContactFactory(customer_id=b, name="Ben Beta", email="ben@beta.example",
                             public_notes="Beta public note", private_notes=MARKER).id
        ContactFactory(customer_id=a, name="Ada Alpha", email="ada@alpha.example", private_notes=MARKER)
        return World(a=a, b=b, ana=ana, ben=ben)


@pytest.fixture
def impersonating(app, staff_users, world):
    """A staff client in Portal Login as Ana (contact of customer A)."""
    client = PanelClient(app.test_client())
    client.login(staff_users["staff"])
    response = client.post(f"/customers/{world.a}/contacts/{world.ana}/portal-login")
    assert response.status_code == 303 and response.headers["Location"] == "/portal/"
    client.forget_token()
    return client
