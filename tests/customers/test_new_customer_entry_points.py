"""The customer list's two ways to add a customer are named for what they do, and the one-page Quick add
starts with a channel limit that lets calls through (0 blocks every call), from the setting when it is set."""
import re

import sqlalchemy as sa

from panel.customers.models import Customer
from panel.extensions import db
from panel.options import set_option


def _channel_limit_value(page: str) -> str:
    return re.search(r'<input[^>]*name="channel_limit"[^>]*>', page).group(0)


def test_the_two_entry_points_say_what_they_do(as_role):
    page = as_role("staff").get("/customers").get_data(as_text=True)
    assert re.search(r'href="/customers/new"[^>]*>\+ Quick add</a>', page)
    assert re.search(r'href="/onboarding/"[^>]*>\+ New customer, step by step</a>', page)
    assert page.count(">+ New customer<") == 0


def test_quick_add_starts_with_a_channel_limit_that_lets_calls_through(app, as_role):
    client = as_role("staff")
    page = client.get("/customers/new").get_data(as_text=True)
    assert "Quick add a customer" in page and 'value="10"' in _channel_limit_value(page)
    assert "0 blocks every call" in page
    with app.app_context():
        set_option("new_customer_channel_limit", "25")
        db.session.commit()
    assert 'value="25"' in _channel_limit_value(client.get("/customers/new").get_data(as_text=True))


def test_quick_add_keeps_what_is_typed(app, as_role):
    response = as_role("staff").post("/customers/new", {"name": "Quick Co", "status": "Active", "currency": "USD",
                                                        "debit_limit": "0", "channel_limit": "4", "flow_speed": "0",
                                                        "invoice_schedule": "none", "customer_type": "End Customer",
                                                        "payment_terms": "Prepaid", "save_action": "continue"})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(Customer.channel_limit).where(Customer.name == "Quick Co")) == 4
