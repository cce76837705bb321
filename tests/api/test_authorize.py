"""POST /api/v1/calls/authorize: the credit check the switch asks before a call. Each reason (asked by customer
id and by the caller's IP), the age of the balance it used (refreshed when older than the option), the lookups
by SIP username and by trunk address (exact address, then the narrowest range; else unknown_caller), and the
token scope."""
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.alerts.models import BalanceCache
from panel.api.tokens import issue_token
from panel.calls.models import HourlySummary
from panel.customers.models import Customer
from panel.customers.trunks import add_trunk, customer_id_for, parse_address
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


@pytest.fixture(params=["customer_id", "ip"])
def by(request, app):
    """by(customer) is the body naming the customer: by its id, or by the caller's IP, one of its trunk
    addresses (so every rule is checked both ways)."""
    def body(customer_id: int) -> dict:
        if request.param == "customer_id":
            return {"customer_id": customer_id}
        address = f"10.{customer_id >> 16 & 255}.{customer_id >> 8 & 255}.{customer_id & 255}"
        with app.app_context():
            if customer_id_for(parse_address(address)) is None:
                with unit_of_work.unit():
                    add_trunk(SYSTEM, db.session.get(Customer, customer_id), address)
        return {"ip": address}
    return body


def trunk(app, customer_id: int, network: str) -> None:
    with app.app_context():
        with unit_of_work.unit():
            add_trunk(SYSTEM, db.session.get(Customer, customer_id), network)


def make(app, balance="10", **fields) -> int:
    with app.app_context():
        customer = CustomerFactory(**({"status": "Active", "channel_limit": 10} | fields)).id
        amount = Decimal(balance)
        if amount:
            LedgerEntryFactory(customer_id=customer, kind="payment" if amount > 0 else "charge", amount=amount)
        return customer


def test_an_active_customer_with_credit_may_call(app, client, token, by):
    customer = make(app, debit_limit=Decimal(5))
    answer = ask(client, token, **by(customer)).get_json()
    assert answer["customer_id"] == customer
    assert answer["allowed"] is True and answer["reason"] == "ok"
    assert (answer["balance"], answer["available"], answer["currency"]) == ("10.00", "15.00", "USD")
    assert answer["balance_age_seconds"] == 0


@pytest.mark.parametrize("status", ["Penalty", "Inactive", "Pending Approval"])
def test_a_customer_that_is_not_active_is_refused(app, client, token, status, by):
    answer = ask(client, token, **by(make(app, status=status))).get_json()
    assert (answer["allowed"], answer["reason"], answer["status"]) == (False, "status", status)


def test_the_balance_at_minus_the_debit_limit_refuses_outbound_calls(app, client, token, by):
    at_limit = make(app, balance="-5", debit_limit=Decimal(5))
    above = make(app, balance="-4.99", debit_limit=Decimal(5))
    answer = ask(client, token, **by(at_limit)).get_json()
    assert (answer["allowed"], answer["reason"], answer["available"]) == (False, "credit_limit", "0.00")
    assert ask(client, token, **by(above)).get_json()["allowed"] is True


def test_inbound_calls_with_zero_balance_pass_only_when_the_customer_allows_them(app, client, token, by):
    strict = make(app, balance="0")
    lenient = make(app, balance="0", allow_inbound_zero_balance=True)
    assert ask(client, token, **by(strict), direction="inbound").get_json()["reason"] == "credit_limit"
    assert ask(client, token, **by(lenient), direction="inbound").get_json()["allowed"] is True
    assert ask(client, token, **by(lenient), direction="outbound").get_json()["reason"] == "credit_limit"


def test_channels_at_the_channel_limit_are_refused(app, client, token, by):
    full = make(app, channels_in_use=10)
    unlimited = make(app, channel_limit=0, channels_in_use=500)
    assert ask(client, token, **by(full)).get_json()["reason"] == "channel_limit"
    assert ask(client, token, **by(unlimited)).get_json()["allowed"] is True


def test_todays_spend_at_the_daily_spend_limit_is_refused(app, client, token, by):
    customer = make(app, balance="100", daily_spend_limit=Decimal(20))
    # This hour and yesterday's last one: distinct at any time of day, also in the hour after midnight.
    this_hour = utcnow().replace(minute=0, second=0, microsecond=0)
    with app.app_context():
        HourlySummaryFactory(customer_id=customer, hour=this_hour, charge=Decimal(12))
        HourlySummaryFactory(customer_id=customer, hour=this_hour.replace(hour=0) - timedelta(hours=1),
                             charge=Decimal(50))  # yesterday: not today's spend
    answer = ask(client, token, **by(customer)).get_json()
    assert (answer["allowed"], answer["spend_today"], answer["daily_spend_limit"]) == (True, "12.00", "20.00")
    with app.app_context():  # more calls this hour: the roll-up recomputes it
        db.session.get(HourlySummary, (customer, this_hour)).charge = Decimal(20)
        db.session.commit()
    answer = ask(client, token, **by(customer)).get_json()
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


def test_a_caller_ip_finds_its_exact_address_first_then_the_narrowest_range(app, client, token):
    wide, narrow, exact = make(app), make(app), make(app)
    trunk(app, wide, "203.0.113.0/24")
    trunk(app, narrow, "203.0.113.0/28")
    trunk(app, exact, "203.0.113.7")
    for ip, customer in (("203.0.113.7", exact), ("203.0.113.8", narrow), ("203.0.113.0", narrow),
                         ("203.0.113.15", narrow), ("203.0.113.16", wide), ("203.0.113.255", wide)):
        answer = ask(client, token, ip=ip).get_json()
        assert (answer["customer_id"], answer["allowed"]) == (customer, True), ip


def test_ipv6_trunks_and_ipv4_mapped_callers(app, client, token):
    v6, v4 = make(app), make(app)
    trunk(app, v6, "2001:db8:100::/48")
    trunk(app, v4, "198.51.100.0/24")
    assert ask(client, token, ip="2001:db8:100:7::1").get_json()["customer_id"] == v6
    assert ask(client, token, ip="::ffff:198.51.100.20").get_json()["customer_id"] == v4
    assert ask(client, token, ip="2001:db8:101::1").get_json()["reason"] == "unknown_caller"


def test_an_ip_no_trunk_address_holds_is_refused_as_an_unknown_caller(app, client, token):
    customer = make(app)
    trunk(app, customer, "192.0.2.0/25")
    response = ask(client, token, ip="192.0.2.200")
    assert response.status_code == 200
    answer = response.get_json()
    assert (answer["allowed"], answer["reason"], answer["ip"]) == (False, "unknown_caller", "192.0.2.200")
    assert "customer_id" not in answer and "192.0.2.200" in answer["message"]


def test_the_lookup_by_ip_reads_the_unique_index_not_the_table(app):
    """The plan of the lookup: SQLite searches the unique index of networks; PostgreSQL, told to avoid
    sequential scans (a near-empty test table would make one cheapest), can serve it from that index."""
    from panel.customers.models import TrunkAddress
    from panel.customers.trunks import candidates

    with app.app_context():
        statement = sa.select(TrunkAddress.network, TrunkAddress.customer_id).where(
            TrunkAddress.network.in_(candidates(parse_address("203.0.113.7"))))
        sql = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
        if db.engine.dialect.name == "postgresql":
            db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
            plan = " ".join(row[0] for row in db.session.execute(sa.text("EXPLAIN " + sql)))
            assert "uq_trunk_address_network" in plan and "Seq Scan" not in plan, plan
        else:
            plan = " ".join(str(row[-1]) for row in db.session.execute(sa.text("EXPLAIN QUERY PLAN " + sql)))
            assert "SEARCH trunk_address USING INDEX" in plan and "(network=?)" in plan, plan
        db.session.rollback()


def test_unknown_customers_and_bad_bodies(app, client, token):
    assert ask(client, token, customer_id=999999).status_code == 404
    for body in ({}, {"customer_id": "7"}, {"customer_id": True}, {"customer_id": 1, "sip_username": "1000"},
                 {"customer_id": 1, "direction": "sideways"}, {"customer_id": 2**40}, {"ip": "203.0.113"},
                 {"ip": 3405803783}, {"ip": "203.0.113.7", "customer_id": 1}, {"ip": "fe80::1%eth0"}, {"ip": ""}):
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
