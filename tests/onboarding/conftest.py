"""Fixtures for the New customer flow: a reseller customer with an Admin contact and a contact who is not
an Admin, portal clients signed in as them, and the values of a complete draft."""
from dataclasses import dataclass

import pytest

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.contacts.records import create_contact
from panel.customers.accounts import create_customer
from panel.extensions import db
from tests.conftest import PanelClient
from tests.portal.conftest import CONTACT_PASSWORD, portal_client  # noqa: F401  (portal_as uses it)

CUSTOMER = {"name": "Gamma Hosting", "address_line1": "1 Main Street", "address_line2": "", "city": "Springfield",
            "region": "", "postal_code": "12345", "country": "US", "business_type": "Technology"}
ADMINS = [{"name": "Ann Admin", "email": "ann@gamma.example"}]
SUPPORT = [{"name": "Max Maintainer", "email": "max@gamma.example", "type": "Maintainer"},
           {"name": "Ola Onsite", "email": "ola@gamma.example", "type": "Onsite Admin"}]


def rows_form(prefix: str, rows: list[dict]) -> dict:
    """Rows as the step's form posts them: admin-0-name, admin-0-email, support-1-type..."""
    return {f"{prefix}-{i}-{key}": value for i, row in enumerate(rows) for key, value in row.items()}


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
        customer = create_customer(SYSTEM, {"name": "Reseller One", "status": "Active", "customer_type": "Reseller"}, "GBP")
        unit_of_work.commit()
        admin, _ = create_contact(SYSTEM, customer.id, {"name": "Rita Reseller", "email": "rita@reseller.example",
                                                "contact_type": "Admin"}, password=CONTACT_PASSWORD)
        other, _ = create_contact(SYSTEM, customer.id, {"name": "Olga Other", "email": "olga@reseller.example",
                                                "contact_type": "Technical"}, password=CONTACT_PASSWORD)
        db.session.commit()
        return Reseller(id=customer.id, admin_id=admin.id, other_id=other.id)


@pytest.fixture
def portal_as(portal_client):  # noqa: F811  (the imported fixture, by name)
    """portal_as(email) signs a fresh client in to the portal as that contact (the portal tests' fixture)."""
    return portal_client


@pytest.fixture
def staff_client(app, staff_users):
    """staff_client(role) signs a fresh client in to the control panel."""

    def sign_in(role: str = "staff") -> PanelClient:
        client = PanelClient(app.test_client())
        assert client.login(staff_users[role]).status_code == 303
        return client

    return sign_in
