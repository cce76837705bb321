"""A reseller tree for the portal tests: Top owns Child, which owns Grandchild; Stranger stands apart.
Each customer has a deployment; Top and Child have an Admin contact, Top also a Billing contact."""
from dataclasses import dataclass

import pytest

from tests.factories import ContactFactory, CustomerFactory, DeploymentFactory


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
        top = CustomerFactory(name="Top Reseller").id
        child = CustomerFactory(name="Child Co", reseller_id=top).id
        grandchild = CustomerFactory(name="Grandchild Co", reseller_id=child).id
        stranger = CustomerFactory(name="Stranger Networks").id
        deployments = {customer_id: DeploymentFactory(customer_id=customer_id, product=product, name=name).id
                       for customer_id, product, name in [
            (top, "PBX", "Top office PBX"), (child, "SBC", "Child edge SBC"), (grandchild, "PBX", "Grandchild PBX"),
            (stranger, "PBX", "Stranger secret PBX")]}
        for customer_id, email, kind in [(top, "admin@top.example", "Admin"), (top, "billing@top.example", "Billing"),
                                         (child, "admin@child.example", "Admin"),
                                         (stranger, "admin@stranger.example", "Admin")]:
            ContactFactory(customer_id=customer_id, name=email.split("@")[0].title(), email=email, contact_type=kind)
        return Tree(top, child, grandchild, stranger, deployments)
