"""POST /api/v1/calls/authorize: the credit check the switch asks before a call. Each reason, the age of the
balance it used (refreshed when older than the option), the lookups by SIP username, and the token scope."""
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.alerts.models import BalanceCache
from panel.api.tokens import issue_token
from panel.customers.models import Customer
from panel.extensions import db
from panel.numbering.allocation import NumberRange, assign_next_block, save_range
from panel.numbering.sip import create_sip_user
from panel.options import set_option
from panel.types import utcnow
from tests.factories import CustomerFactory, HourlySummaryFactory, LedgerEntryFactory

URL = "/api/v1/calls/authorize"


@pytest.fixture
def token(app):
    with app.app_context():
        made = issue_token("switch-1", ["calls"])
        unit_of_work.commit()
        return made


def ask(client, token, **body):
    body.setdefault("direction", "outbound")
    return client.client.post(URL, json=body, headers={"Authorization": f"Bearer {token}"} if token else {})


def make(app, balance="10", **fields) -> int:
    with app.app_context():
        customer = CustomerFactory(**({"status": "Active", "channel_limit": 10} | fields)).id
        amount = Decimal(balance)
        if amount:
            LedgerEntryFactory(customer_id=customer, kind="payment" if amount > 0 else "charge", amount=amount)
        return customer


def test_an_active_customer_with_credit_may_call(app, client, token):
    customer = make(app, debit_limit=Decimal(5))
    answer = ask(client, token, customer_id=customer).get_json()
    assert answer["allowed"] is True and answer["reason"] == "ok"
    assert (answer["balance"], answer["available"], answer["currency"]) == ("10.00", "15.00", "USD")
    assert answer["balance_age_seconds"] == 0


@pytest.mark.parametrize("status", ["Penalty", "Inactive", "Pending Approval"])
def test_a_customer_that_is_not_active_is_refused(app, client, token, status):
    answer = ask(client, token, customer_id=make(app, status=status)).get_json()
    assert (answer["allowed"], answer["reason"], answer["status"]) == (False, "status", status)


def test_the_balance_at_minus_the_debit_limit_refuses_outbound_calls(app, client, token):
    at_limit = make(app, balance="-5", debit_limit=Decimal(5))
    above = make(app, balance="-4.99", debit_limit=Decimal(5))
    answer = ask(client, token, customer_id=at_limit).get_json()
    assert (answer["allowed"], answer["reason"], answer["available"]) == (False, "credit_limit", "0.00")
    assert ask(client, token, customer_id=above).get_json()["allowed"] is True


def test_inbound_calls_with_zero_balance_pass_only_when_the_customer_allows_them(app, client, token):
    strict = make(app, balance="0")
    lenient = make(app, balance="0", allow_inbound_zero_balance=True)
    assert ask(client, token, customer_id=strict, direction="inbound").get_json()["reason"] == "credit_limit"
    assert ask(client, token, customer_id=lenient, direction="inbound").get_json()["allowed"] is True
    assert ask(client, token, customer_id=lenient, direction="outbound").get_json()["reason"] == "credit_limit"


def test_channels_at_the_channel_limit_are_refused(app, client, token):
    full = make(app, channels_in_use=10)
    unlimited = make(app, channel_limit=0, channels_in_use=500)
    assert ask(client, token, customer_id=full).get_json()["reason"] == "channel_limit"
    assert ask(client, token, customer_id=unlimited).get_json()["allowed"] is True


def test_todays_spend_at_the_daily_spend_limit_is_refused(app, client, token):
    customer = make(app, balance="100", daily_spend_limit=Decimal(20))
    now = utcnow()
    with app.app_context():
        HourlySummaryFactory(customer_id=customer, hour=now.replace(minute=0, second=0, microsecond=0), charge=Decimal(12))
        HourlySummaryFactory(customer_id=customer, hour=now.replace(hour=0, minute=0, second=0, microsecond=0)
                             - timedelta(hours=1), charge=Decimal(50))  # yesterday: not today's spend
    answer = ask(client, token, customer_id=customer).get_json()
    assert (answer["allowed"], answer["spend_today"], answer["daily_spend_limit"]) == (True, "12.00", "20.00")
    with app.app_context():
        HourlySummaryFactory(customer_id=customer, hour=now.replace(hour=0, minute=0, second=0, microsecond=0),
                             charge=Decimal(8))
    answer = ask(client, token, customer_id=customer).get_json()
    assert (answer["allowed"], answer["reason"], answer["spend_today"]) == (False, "daily_spend_limit", "20.00")


def test_the_balance_is_cached_and_computed_again_once_older_than_the_option(app, client, token):
    customer = make(app, balance="10")
    ask(client, token, customer_id=customer)
    with app.app_context():
        LedgerEntryFactory(customer_id=customer, kind="charge", amount=Decimal(-10))
        old = utcnow() - timedelta(seconds=30)
        db.session.get(BalanceCache, customer).refreshed_at = old
        db.session.commit()
    answer = ask(client, token, customer_id=customer).get_json()
    # 30 s old, within the 60 s default: the cached figure, and its age.
    assert answer["allowed"] is True and answer["balance"] == "10.00" and 30 <= answer["balance_age_seconds"] <= 32
    with app.app_context():
        set_option("authorize_balance_max_age", "20")
        db.session.commit()
    answer = ask(client, token, customer_id=customer).get_json()
    assert (answer["allowed"], answer["reason"], answer["balance"], answer["balance_age_seconds"]) == (
        False, "credit_limit", "0.00", 0)


def test_a_customer_is_found_by_sip_username(app, client, token):
    customer = make(app, balance="0")
    with app.app_context():
        with unit_of_work.unit():
            save_range(NumberRange(1000, 1999, 100))
            assign_next_block(SYSTEM, customer)
            create_sip_user(SYSTEM, customer, "1000", None)
    answer = ask(client, token, sip_username="1000")
    assert answer.status_code == 200 and answer.get_json()["customer_id"] == customer
    assert ask(client, token, sip_username="1999").status_code == 404


def test_unknown_customers_and_bad_bodies(app, client, token):
    assert ask(client, token, customer_id=999999).status_code == 404
    for body in ({}, {"customer_id": "7"}, {"customer_id": True}, {"customer_id": 1, "sip_username": "1000"},
                 {"customer_id": 1, "direction": "sideways"}, {"customer_id": 2**40}):
        response = client.client.post(URL, json=body, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 422 and response.get_json()["error"] == "invalid", body
    response = client.client.post(URL, data="not json", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422


def test_a_token_without_the_calls_scope_is_refused(app, client):
    customer = make(app)
    with app.app_context():
        other = issue_token("switch-channels", ["channels", "cdrs", "invoices"])
        unit_of_work.commit()
    for token in (None, "pnl_wrong", other):
        response = ask(client, token, customer_id=customer)
        assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_customer_form_sets_the_daily_spend_limit_and_the_inbound_choice(app, as_role, customer, client, token):
    from tests.customers.test_customer_pages import VALID, errors

    staff = as_role("staff")
    form = {**VALID, "save_action": "continue"}
    refused = staff.post(f"/customers/{customer}/edit", form | {"daily_spend_limit": "0"})
    assert refused.status_code == 422 and any("daily spend limit" in e for e in errors(refused))
    assert staff.post(f"/customers/{customer}/edit", form | {"daily_spend_limit": "12,5"}).status_code == 422
    saved = staff.post(f"/customers/{customer}/edit", form | {"daily_spend_limit": "20.00",
                                                              "allow_inbound_zero_balance": "y"})
    assert saved.status_code == 303
    with app.app_context():
        stored = db.session.get(Customer, customer)
        assert (stored.daily_spend_limit, stored.allow_inbound_zero_balance) == (Decimal(20), True)
    page = staff.get(f"/customers/{customer}").get_data(as_text=True)
    assert "inbound calls allowed with zero balance" in page
    answer = ask(client, token, customer_id=customer, direction="inbound").get_json()
    assert answer["allowed"] is True and answer["daily_spend_limit"] == "20.00"
    staff.post(f"/customers/{customer}/edit", form | {"daily_spend_limit": ""})
    with app.app_context():
        assert db.session.get(Customer, customer).daily_spend_limit is None
