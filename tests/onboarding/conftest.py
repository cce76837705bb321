"""Fixtures for the New customer flow: a reseller customer with an Admin contact and a contact who is not
an Admin, and portal and staff clients signed in (a complete draft's values are in tests/onboarding/data.py)."""
from dataclasses import dataclass

import pytest

from tests.factories import ContactFactory, CustomerFactory
from tests.helpers import PanelClient, staff_sign_in


@dataclass
class Reseller:
    id: int
    admin_id: int
    other_id: int  # a contact of the reseller who is not an Admin
    admin_email: str = "rita@reseller.example"
    other_email: str = "olga@reseller.example"


@pytest.fixture
def reseller(app, staff_users):
    with app.app_context():
        customer = CustomerFactory(name="Reseller One", customer_type="Reseller", currency="GBP")
        admin = ContactFactory(customer_id=customer.id, name="Rita Reseller", email="rita@reseller.example",
                               contact_type="Admin")
        other = ContactFactory(customer_id=customer.id, name="Olga Other", email="olga@reseller.example",
                               contact_type="Technical")
        return Reseller(id=customer.id, admin_id=admin.id, other_id=other.id)


@pytest.fixture
def staff_client(app, staff_users):
    """staff_client(role) signs a fresh client in to the control panel."""

    def sign_in(role: str = "staff") -> PanelClient:
        return staff_sign_in(app, staff_users[role])

    return sign_in
