"""Call figures for invoice tests (the helpers that write them are in tests/invoices/data.py)."""
import pytest

from tests.invoices.data import add_hours


@pytest.fixture
def traffic(app, customer):
    """Acme has calls on 2, 3 and 9 November 2026 (a Monday, Tuesday and the next Monday)."""
    with app.app_context():
        add_hours(customer, ("2026-11-02T09", 10, "1.50"), ("2026-11-02T23", 5, "0.7500"),
                  ("2026-11-03T00", 4, "0.4000"), ("2026-11-09T12", 2, "0.2000"))
    return customer
