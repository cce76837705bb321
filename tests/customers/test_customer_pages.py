"""The customers list, the customer form and the Main tab, through the test client."""
import re
from decimal import Decimal

import sqlalchemy as sa

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.customers.accounts import create_customer
from panel.customers.models import Customer
from panel.extensions import db
from tests.factories import CustomerFactory, LedgerEntryFactory
from tests.helpers import pager_link

VALID = {"name": "Bluewave Networks", "status": "Active", "currency": "EUR", "debit_limit": "250.00",
         "channel_limit": "40", "flow_speed": "10", "email": "noc@bluewave.example", "country": "ie"}


def errors(response) -> list[str]:
    return re.findall(r'<p class="error">([^<]+)</p>', response.get_data(as_text=True))


def test_staff_creates_a_customer(app, as_role):
    client = as_role("staff")
    response = client.post("/customers/new", VALID)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Bluewave Networks" in page and "Customer Bluewave Networks created." in page
    with app.app_context():
        c = db.session.scalar(sa.select(Customer).where(Customer.name == "Bluewave Networks"))
        assert (c.currency, c.debit_limit, c.channel_limit, c.flow_speed, c.country) == ("EUR", Decimal(250), 40, 10, "IE")


def test_invalid_customer_keeps_the_typed_values_and_saves_nothing(app, as_role):
    client = as_role("staff")
    bad = {**VALID, "name": "  ", "debit_limit": "12,5.0.1", "channel_limit": "-3", "flow_speed": "fast",
           "email": "not-an-email", "country": "Ireland", "phone": "<script>"}
    response = client.post("/customers/new", bad)
    assert response.status_code == 422
    assert set(errors(response)) >= {
        "This field is required.", "Enter an amount such as 250 or 250.00.", "Number must be between 0 and 1000000.",
        "Not a valid integer value.", "Enter an e-mail address such as name@example.com.",
        "Use the two-letter country code, such as US or GB.",
    }
    body = response.get_data(as_text=True)
    assert 'value="12,5.0.1"' in body and 'value="not-an-email"' in body and 'value="Ireland"' in body
    assert "<script>" not in body and "&lt;script&gt;" in body
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 0


def test_negative_debit_limit_and_too_many_decimals_are_refused(as_role):
    client = as_role("staff")
    assert "The debit limit cannot be negative." in errors(client.post("/customers/new", {**VALID, "debit_limit": "-5"}))
    assert "Use at most 2 decimal places." in errors(client.post("/customers/new", {**VALID, "debit_limit": "1.005"}))
    assert "Enter an amount such as 250 or 250.00." in errors(client.post("/customers/new", {**VALID, "debit_limit": "NaN"}))


def test_currency_is_fixed_after_creation(app, as_role, customer):
    client = as_role("staff")
    edit = client.get(f"/customers/{customer}/edit").get_data(as_text=True)
    assert 'name="currency"' not in edit
    response = client.post(f"/customers/{customer}/edit", {**VALID, "currency": "GBP"})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Customer, customer).currency == "USD"


def test_unknown_status_is_refused(as_role):
    response = as_role("staff").post("/customers/new", {**VALID, "status": "Deleted"})
    assert response.status_code == 422
    assert "Not a valid choice." in errors(response)


def test_edit_of_a_missing_customer_is_404(as_role):
    client = as_role("staff")
    assert client.get("/customers/999999").status_code == 404
    assert client.post("/customers/999999/edit", VALID).status_code == 404


def test_main_tab_shows_status_balance_debit_limit_and_channels(app, as_role):
    with app.app_context():
        cid = CustomerFactory(name="Cedar Clinic", status="Penalty", debit_limit=Decimal(100), channel_limit=20,
                              currency="CAD", channels_in_use=7).id
        for kind, amount in (("payment", "150.10"), ("charge", "-200.35"), ("credit", "0.05")):
            LedgerEntryFactory(customer_id=cid, kind=kind, amount=Decimal(amount))
    page = as_role("readonly").get(f"/customers/{cid}").get_data(as_text=True)
    assert "Penalty" in page
    assert "-50.20 CAD" in page  # 150.10 - 200.35 + 0.05, to the cent
    assert "100.00 CAD" in page
    assert "7 / 20" in page
    for section in ("contacts", "number-blocks", "summary"):
        assert f'id="{section}"' in page and 'hx-trigger="load"' in page


def test_overview_partial_is_a_fragment_for_htmx_and_varies(app, as_role, customer):
    client = as_role("readonly")
    fragment = client.get(f"/customers/{customer}/overview", htmx=True)
    assert fragment.status_code == 200
    assert fragment.get_data(as_text=True).lstrip().startswith('<section id="overview"')
    assert "<html" not in fragment.get_data(as_text=True)
    assert "HX-Request" in fragment.headers["Vary"]
    # Opened directly (not by htmx), the URL sends the browser to the whole page.
    assert client.get(f"/customers/{customer}/overview").status_code == 302


def test_list_searches_by_name_or_id_and_filters_by_status(app, as_role):
    with app.app_context():
        ids = {}
        for name, status in (("Harbor Voice", "Active"), ("Harbor Hotels", "Inactive"), ("Union Foods", "Active")):
            ids[name] = create_customer(SYSTEM, {"name": name, "status": status}, "USD").id
            unit_of_work.commit()
    client = as_role("readonly")
    body = client.get("/customers?q=harbor").get_data(as_text=True)
    assert "Harbor Voice" in body and "Harbor Hotels" in body and "Union Foods" not in body
    body = client.get("/customers?q=harbor&status=Active").get_data(as_text=True)
    assert "Harbor Voice" in body and "Harbor Hotels" not in body
    body = client.get(f"/customers?q={ids['Union Foods']}").get_data(as_text=True)
    assert "Union Foods" in body
    body = client.get("/customers?q=100%25_").get_data(as_text=True)  # LIKE wildcards are literal
    assert "No customers match" in body


def test_list_answers_htmx_with_the_results_block_and_history_with_the_page(as_role, customer):
    client = as_role("readonly")
    fragment = client.get("/customers?q=acme", htmx=True)
    assert "<html" not in fragment.get_data(as_text=True) and "Acme Telecom" in fragment.get_data(as_text=True)
    assert "HX-Request" in fragment.headers["Vary"]
    restore = client.get("/customers?q=acme", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restore.get_data(as_text=True)
    boosted = client.get("/customers?q=acme", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in boosted.get_data(as_text=True)
    assert "<html" in client.get("/customers?q=acme").get_data(as_text=True)


def test_list_paginates_without_counting_the_table(app, as_role):
    app.config["PAGE_SIZE"] = 3
    with app.app_context():
        for n in range(7):
            create_customer(SYSTEM, {"name": f"Customer {n:02d}"}, "USD")
            unit_of_work.commit()
    client = as_role("readonly")
    first = client.get("/customers").get_data(as_text=True)
    assert "Customer 00" in first and "Customer 03" not in first and "Next →" in first and "← Previous" not in first
    assert "Rows 1–3" in first
    second = client.get(pager_link(first, "Next →")).get_data(as_text=True)
    assert "Customer 03" in second and "Customer 05" in second and "Customer 02" not in second and "Rows 4–6" in second
    third = client.get(pager_link(second, "Next →")).get_data(as_text=True)
    assert "Customer 06" in third and "Next →" not in third and "← Previous" in third and "Rows 7–7" in third
    back = client.get(pager_link(third, "← Previous")).get_data(as_text=True)
    assert "Customer 03" in back and "Customer 06" not in back and "Rows 4–6" in back
    # The last page is read from the end, without counting how many rows come before it.
    last = client.get(pager_link(first, "Last »")).get_data(as_text=True)
    assert "Customer 04" in last and "Customer 06" in last and "Customer 03" not in last and "Last 3 rows" in last
    assert "Customer 01" in client.get(pager_link(last, "← Previous")).get_data(as_text=True)
    assert "Customer 00" in client.get(pager_link(last, "« First")).get_data(as_text=True)
    # A cursor typed by hand, or from another list, gives the first page, never an error.
    for junk in ("after=abc", "before=" + "x" * 600, "page=abc", "last=yes&after=zz"):
        assert client.get(f"/customers?{junk}").status_code == 200
