"""The invoice API for billing systems: filters, keyset pages, one invoice with its lines and payments,
tokens, and a fixed number of queries whatever the page size."""
import base64
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.api.tokens import issue_token, revoke_token
from panel.customers.accounts import create_customer
from panel.extensions import db
from panel.invoices import billing
from panel.invoices.payments import allocate, record_payment
from tests.invoices.data import NOW, add_hours, at

URL = "/api/v1/invoices"


def make_invoices() -> dict:
    """Inside an app context. Acme (USD): a daily invoice for each day of October 2026 (day d has d calls
    charged d × 0.10), the first paid in full, the second in part, the third void. Beta (EUR), made after:
    a monthly invoice for September and weekly ones for the weeks starting 5, 12, 19 and 26 October."""
    acme = create_customer(SYSTEM, {"name": "Acme Telecom", "status": "Active", "channel_limit": 30}, "USD")
    unit_of_work.commit()
    beta = create_customer(SYSTEM, {"name": "Beta Networks", "status": "Active", "channel_limit": 10}, "EUR")
    unit_of_work.commit()
    add_hours(acme.id, *((f"2026-10-{d:02d}T12", d, str(Decimal(d) / 10)) for d in range(1, 32)))
    add_hours(beta.id, ("2026-09-15T08", 3, "0.9"), *((f"2026-10-{d:02d}T09", 1, "0.25") for d in (6, 13, 20, 27)))
    with unit_of_work.unit():
        daily = billing.generate(SYSTEM, acme, "daily", [at(f"2026-10-{d:02d}") for d in range(1, 32)], now=NOW).created
        monthly = billing.generate(SYSTEM, beta, "monthly", [at("2026-09-01")], now=NOW).created
        weekly = billing.generate(SYSTEM, beta, "weekly", [at(f"2026-10-{d:02d}") for d in (5, 12, 19, 26)],
                                  now=NOW).created
        payment = record_payment(SYSTEM, acme, {"amount": Decimal("0.25"), "method": "Bank transfer",
                                                "reference": "TX-1", "status": "Completed",
                                                "received_on": date(2026, 11, 5)})
        allocate(SYSTEM, payment, {daily[0].id: Decimal("0.10"), daily[1].id: Decimal("0.15")})
        billing.void_invoice(SYSTEM, daily[2], "sent twice")
    return {"acme": acme.id, "beta": beta.id, "acme_numbers": [i.number for i in daily],
            "beta_numbers": [i.number for i in monthly + weekly], "payment": payment.id}


@pytest.fixture
def data(app):
    with app.app_context():
        return make_invoices()


@pytest.fixture
def token(app):
    with app.app_context():
        made = issue_token("billing", ["invoices"])
        unit_of_work.commit()
        return made


def get(client, url, token, **query):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.client.get(url, query_string=query, headers=headers)


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [invoice["number"] for invoice in response.get_json()["invoices"]]


def walk(client, token, **query) -> tuple[list[str], int]:
    """Every page from the first to the one whose next_cursor is null: (numbers in order, pages)."""
    seen, pages, cursor = [], 0, None
    while True:
        response = get(client, URL, token, **query, **({"cursor": cursor} if cursor else {}))
        seen += numbers(response)
        pages += 1
        cursor = response.get_json()["next_cursor"]
        if cursor is None:
            return seen, pages


def test_a_listed_invoice_has_its_customer_money_as_strings_and_no_lines(client, data, token):
    answer = get(client, URL, token, limit=2).get_json()
    assert set(answer) == {"invoices", "next_cursor"}
    created_at = answer["invoices"][0].pop("created_at")
    assert created_at.endswith("+00:00")
    assert answer["invoices"][0] == {
        "number": "INV-000001", "customer_id": data["acme"], "customer_name": "Acme Telecom", "kind": "usage",
        "time_frame": "daily",
        "period_start": "2026-10-01T00:00:00+00:00", "period_end": "2026-10-02T00:00:00+00:00", "currency": "USD",
        "calls": 1, "billed_seconds": 60, "minutes": "1.00", "total": "0.10", "paid": "0.10", "due": "0.00",
        "status": "paid", "created_by": "system", "voided_at": None, "void_reason": None,
    }
    assert (answer["invoices"][1]["paid"], answer["invoices"][1]["due"]) == ("0.15", "0.05")


def test_the_list_is_in_id_order_and_includes_void_invoices(client, data, token):
    assert numbers(get(client, URL, token)) == data["acme_numbers"] + data["beta_numbers"]


@pytest.mark.parametrize("query, expected", [
    ({"status": "paid"}, ["INV-000001"]),
    ({"status": "void"}, ["INV-000003"]),
    ({"customer_id": "beta"}, "beta"),
    ({"customer_id": "beta", "status": "issued", "period_from": "2026-10-12"}, ["INV-000034", "INV-000035",
                                                                                "INV-000036"]),
    ({"customer_id": 999999}, []),
    # Periods that START in the range: the week of 26 October is in October although it ends in November.
    ({"period_from": "2026-10-26", "period_to": "2026-11-01"},
     [f"INV-{n:06d}" for n in (26, 27, 28, 29, 30, 31, 36)]),
    ({"period_from": "2026-10-26T02:00:00+02:00", "period_to": "2026-10-27"}, ["INV-000026", "INV-000036"]),
    ({"period_from": "2026-10-26T00:00:01", "period_to": "2026-10-28T00:00:00Z"}, ["INV-000027"]),
    ({"period_to": "2026-10-01"}, ["INV-000032"]),  # September's monthly invoice
    ({"period_from": "2026-10-31"}, ["INV-000031"]),
])
def test_filters_select_by_customer_status_and_period_start(client, data, token, query, expected):
    if query.get("customer_id") == "beta":
        query = query | {"customer_id": data["beta"]}
    if expected == "beta":
        expected = data["beta_numbers"]
    assert numbers(get(client, URL, token, **query)) == expected


@pytest.mark.parametrize("limit", [1, 7, 12, 36, 500])
def test_walking_the_cursor_reads_every_invoice_exactly_once(client, data, token, limit):
    everything = data["acme_numbers"] + data["beta_numbers"]  # 36
    seen, pages = walk(client, token, limit=limit)
    assert seen == everything
    assert pages == -(-len(everything) // limit)  # a full last page is not followed by an empty one


def test_a_cursor_walk_keeps_its_filters(client, data, token):
    seen, pages = walk(client, token, limit=2, status="issued", period_from="2026-10-01", period_to="2026-10-08")
    assert seen == [f"INV-{n:06d}" for n in (2, 4, 5, 6, 7, 33)] and pages == 3


def test_invoices_made_during_a_walk_come_on_a_later_page(app, client, data, token):
    first = get(client, URL, token, limit=30).get_json()
    with app.app_context():
        from panel.customers.models import Customer

        add_hours(data["acme"], ("2026-11-01T10", 1, "0.1"))
        with unit_of_work.unit():
            billing.generate(SYSTEM, db.session.get(Customer, data["acme"]), "daily", [at("2026-11-01")], now=NOW)
    rest = get(client, URL, token, cursor=first["next_cursor"]).get_json()
    assert [i["number"] for i in rest["invoices"]][-1] == "INV-000037" and rest["next_cursor"] is None


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize("query, parameter", [
    ({"limit": "0"}, "limit"), ({"limit": "501"}, "limit"), ({"limit": "ten"}, "limit"), ({"limit": "-5"}, "limit"),
    ({"limit": ""}, "limit"), ({"limit": "1.5"}, "limit"),
    ({"customer_id": "acme"}, "customer_id"), ({"customer_id": "0"}, "customer_id"),
    ({"customer_id": "9" * 30}, "customer_id"), ({"customer_id": str(2**31)}, "customer_id"),
    ({"status": "open"}, "status"), ({"status": "Paid"}, "status"), ({"status": ""}, "status"),
    ({"period_from": "yesterday"}, "period_from"), ({"period_to": "2026-13-01"}, "period_to"),
    ({"period_from": "0001-01-01T00:00:00+01:00"}, "period_from"),
    ({"period_from": "2026-11-01", "period_to": "2026-11-01"}, "period_to"),
    ({"period_from": "2026-11-02", "period_to": "2026-11-01"}, "period_to"),
    ({"cursor": "garbage!"}, "cursor"), ({"cursor": _cursor("id:abc")}, "cursor"), ({"cursor": _cursor("7")}, "cursor"),
    ({"cursor": _cursor("id:0")}, "cursor"), ({"cursor": _cursor("id:" + "9" * 25)}, "cursor"),
    ({"cursor": ""}, "cursor"), ({"cursor": _cursor(f"id:{2**31}")}, "cursor"),
    ({"customer": "1"}, "customer"), ({"page": "2"}, "page"),
])
def test_bad_parameters_are_422_naming_the_parameter(client, data, token, query, parameter):
    response = get(client, URL, token, **query)
    assert response.status_code == 422
    answer = response.get_json()
    assert answer["error"] == "invalid" and answer["parameter"] == parameter
    assert answer["message"].startswith(parameter + ":")


def test_the_largest_ids_are_taken_without_overflowing_the_database(client, data, token):
    for query in ({"customer_id": 2**31 - 1}, {"cursor": _cursor(f"id:{2**31 - 1}")}):
        assert get(client, URL, token, **query).get_json() == {"invoices": [], "next_cursor": None}


def test_a_customer_id_past_the_largest_id_is_404_for_the_switch(app, client):
    with app.app_context():
        switch = issue_token("switch", ["channels"])
        unit_of_work.commit()
    for method in ("GET", "PUT"):
        response = client.client.open(f"/api/v1/customers/{2**31}/channels", method=method, json={"channels_in_use": 1},
                                      headers={"Authorization": f"Bearer {switch}"})
        assert response.status_code == 404 and response.get_json()["message"]


def test_a_parameter_given_twice_is_422(client, data, token):
    response = client.client.get(URL + "?status=paid&status=void", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422 and response.get_json()["parameter"] == "status"


def test_one_invoice_has_its_lines_paid_due_and_payments(client, data, token):
    answer = get(client, f"{URL}/INV-000002", token).get_json()
    answer.pop("created_at")
    assert answer == {
        "number": "INV-000002", "customer_id": data["acme"], "customer_name": "Acme Telecom", "kind": "usage",
        "time_frame": "daily",
        "period_start": "2026-10-02T00:00:00+00:00", "period_end": "2026-10-03T00:00:00+00:00", "currency": "USD",
        "calls": 2, "billed_seconds": 120, "minutes": "2.00", "total": "0.20", "paid": "0.15", "due": "0.05",
        "status": "issued", "created_by": "system", "voided_at": None, "void_reason": None,
        "lines": [{"position": 1, "description": "Calls 2026-10-02 (UTC)", "calls": 2, "answered": 2,
                   "billed_seconds": 120, "minutes": "2.00", "charge": "0.20"}],
        "allocations": [{"payment_id": data["payment"], "amount": "0.15", "method": "Bank transfer",
                         "reference": "TX-1", "received_on": "2026-11-05"}],
    }


def test_a_weekly_invoice_has_a_line_per_day_with_calls(app, client, token, customer):
    with app.app_context():
        from panel.customers.models import Customer

        add_hours(customer, ("2026-11-02T09", 10, "1.50"), ("2026-11-02T23", 5, "0.7500"), ("2026-11-03T00", 4, "0.4"))
        with unit_of_work.unit():
            billing.generate(SYSTEM, db.session.get(Customer, customer), "weekly", [at("2026-11-02")], now=NOW)
    answer = get(client, f"{URL}/INV-000001", token).get_json()
    assert (answer["period_end"], answer["total"], answer["minutes"]) == ("2026-11-09T00:00:00+00:00", "2.65",
                                                                          "19.00")
    assert [(line["description"], line["charge"]) for line in answer["lines"]] == [
        ("Calls 2026-11-02 (UTC)", "2.25"), ("Calls 2026-11-03 (UTC)", "0.40")]


def test_a_void_invoice_owes_nothing_and_says_why(client, data, token):
    answer = get(client, f"{URL}/INV-000003", token).get_json()
    assert (answer["status"], answer["total"], answer["paid"], answer["due"]) == ("void", "0.30", "0.00", "0.00")
    assert answer["void_reason"] == "sent twice" and answer["voided_at"].endswith("+00:00")
    assert answer["allocations"] == []


@pytest.mark.parametrize("number", ["INV-999999", "inv-000001", "INV-1", " INV-000001"])
def test_an_unknown_number_is_404_json(client, data, token, number):
    response = get(client, f"{URL}/{number}", token)
    assert response.status_code == 404
    assert response.mimetype == "application/json" and response.get_json()["message"]


@pytest.mark.parametrize("url", [URL, f"{URL}/INV-000001"])
def test_no_token_a_wrong_or_revoked_token_or_another_scope_is_401(app, client, data, url):
    with app.app_context():
        from panel.api.models import ApiToken

        switch = issue_token("switch", ["channels", "cdrs"])
        unit_of_work.commit()
        revoked = issue_token("old billing", ["invoices"])
        unit_of_work.commit()
        revoke_token(db.session.scalar(sa.select(ApiToken).where(ApiToken.name == "old billing")))
        unit_of_work.commit()
    for token in (None, "pnl_wrong", switch, revoked):
        response = get(client, url, token)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.get_json()["error"] == "unauthorized"
    response = client.client.get(url, headers={"Authorization": "Basic YWRtaW46eA=="})
    assert response.status_code == 401


def test_the_token_is_checked_before_the_parameters(client, data):
    assert get(client, URL, None, limit="0").status_code == 401


def test_a_staff_session_is_not_enough(as_role, data):
    assert as_role("admin").client.get(URL).status_code == 401


def test_reads_mark_the_token_used_but_write_nothing_to_the_audit_log(app, client, data, token):
    from panel.api.models import ApiToken
    from panel.audit.models import AuditEntry

    with app.app_context():
        entries = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    assert get(client, URL, token).status_code == 200
    assert get(client, f"{URL}/INV-000001", token).status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == entries
        assert db.session.scalar(sa.select(ApiToken.last_used_at).where(ApiToken.name == "billing")) is not None


class Statements:
    """The SQL statements the app sends while it is used as a context manager."""

    def __init__(self, app):
        self.app, self.sent = app, []

    def _record(self, conn, cursor, statement, *args):
        self.sent.append(statement)

    def __enter__(self):
        with self.app.app_context():
            self.engine = db.engine
        sa.event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc):
        sa.event.remove(self.engine, "before_cursor_execute", self._record)


def test_a_page_costs_the_same_queries_whatever_its_size_and_writes_nothing(app, client, data, token):
    get(client, URL, token)  # the first read of the minute also saves last_used_at
    sent = []
    for query in ({"limit": 1}, {"limit": 36}, {"limit": 10, "customer_id": data["beta"]}):
        with Statements(app) as statements:
            assert get(client, URL, token, **query).status_code == 200
        sent.append([s for s in statements.sent if s != "BEGIN"])  # SQLite's explicit BEGIN
    assert [len(s) for s in sent] == [3, 3, 3]  # the token, the page with the names, what is paid
    assert not any(s.lstrip().upper().startswith(("UPDATE", "INSERT")) for s in sum(sent, []))


def test_one_invoice_costs_the_same_queries_whatever_it_holds(app, client, data, token):
    get(client, URL, token)
    counts = []
    for number in ("INV-000002", "INV-000032", "INV-000003"):  # 1 line and a payment; 1 line; void
        with Statements(app) as statements:
            assert get(client, f"{URL}/{number}", token).status_code == 200
        counts.append(len([s for s in statements.sent if s != "BEGIN"]))
    assert counts == [4, 4, 4]  # the token, the invoice with the name, its payments, its lines


def test_last_used_at_is_saved_at_most_once_a_minute(app, client, data, token):
    from panel.api.models import ApiToken
    from panel.types import utcnow

    def last_used():
        with app.app_context():
            return db.session.scalar(sa.select(ApiToken.last_used_at).where(ApiToken.name == "billing"))

    get(client, URL, token)
    first = last_used()
    get(client, URL, token)
    assert last_used() == first
    with app.app_context():
        stored = db.session.scalar(sa.select(ApiToken).where(ApiToken.name == "billing"))
        stored.last_used_at = utcnow() - timedelta(minutes=2)
        db.session.commit()
    get(client, URL, token)
    assert last_used() > first
