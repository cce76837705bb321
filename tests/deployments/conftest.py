"""A reseller tree for the portal tests: Top owns Child, which owns Grandchild; Stranger stands apart.
Each customer has a deployment; Top and Child have an Admin contact, Top also a Billing contact."""
from dataclasses import dataclass

import pytest

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.contacts.records import create_contact
from panel.customers.accounts import create_customer
from panel.deployments.records import create_deployment
from panel.extensions import db
from tests.conftest import PanelClient

CONTACT_PASSWORD = "contact password 123"


@dataclass
class Tree:
    top: int
    child: int
    grandchild: int
    stranger: int
    deployments: dict  # customer id → its deployment's id


@pytest.fixture
def tree(app):
    with app.app_context():
        top = create_customer(SYSTEM, {"name": "Top Reseller", "status": "Active"}, "USD").id
        unit_of_work.commit()
        child = create_customer(SYSTEM, {"name": "Child Co", "status": "Active", "reseller_id": top}, "USD").id
        unit_of_work.commit()
        grandchild = create_customer(SYSTEM, {"name": "Grandchild Co", "status": "Active", "reseller_id": child}, "USD").id
        unit_of_work.commit()
        stranger = create_customer(SYSTEM, {"name": "Stranger Networks", "status": "Active"}, "USD").id
        unit_of_work.commit()
        deployments = {customer_id: create_deployment(customer_id, product, name).id for customer_id, product, name in [
            (top, "PBX", "Top office PBX"), (child, "SBC", "Child edge SBC"), (grandchild, "PBX", "Grandchild PBX"),
            (stranger, "PBX", "Stranger secret PBX")]}
        for customer_id, email, kind in [(top, "admin@top.example", "Admin"), (top, "billing@top.example", "Billing"),
                                         (child, "admin@child.example", "Admin"),
                                         (stranger, "admin@stranger.example", "Admin")]:
            create_contact(SYSTEM, customer_id, {"name": email.split("@")[0].title(), "email": email, "contact_type": kind},
                           password=CONTACT_PASSWORD)
        db.session.commit()
        return Tree(top, child, grandchild, stranger, deployments)


@pytest.fixture
def portal_as(app):
    """portal_as(email) signs a fresh client in to the portal as that contact."""

    def sign_in(email: str) -> PanelClient:
        client = PanelClient(app.test_client())
        response = client.post("/portal/login", {"email": email, "password": CONTACT_PASSWORD})
        assert response.status_code == 303, response.get_data(as_text=True)
        client.forget_token()
        return client

    return sign_in
