"""The support-credits page over HTTP: the balance on the Main tab, purchases, deductions (with the
deployment picker), reversals, who may do what, and a customer edit that never touches the balance."""
from decimal import Decimal
from html.parser import HTMLParser

import sqlalchemy as sa

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.customers.accounts import create_customer
from panel.customers.models import Customer
from panel.deployments.records import create_deployment
from panel.extensions import db
from panel.support import credits
from panel.support.models import CreditTransaction
from tests.helpers import pager_link


def buy(client, customer_id, amount="10", reference="PO-1", method="Purchase order", **extra):
    data = {"purchase-credits": amount, "purchase-payment_method": method, "purchase-reference": reference, **extra}
    return client.post(f"/customers/{customer_id}/support-credits/purchases", data, htmx=True)


def deduct(client, customer_id, amount="1", ticket="TCK-1", **extra):
    data = {"credits": amount, "ticket_reference": ticket, **extra}
    return client.post(f"/customers/{customer_id}/support-credits/deductions", data, htmx=True)


def balance(app, customer_id):
    with app.app_context():
        return credits.balance(customer_id)


def transaction_ids(app):
    with app.app_context():
        return db.session.scalars(sa.select(CreditTransaction.id).order_by(CreditTransaction.id)).all()


def test_the_main_tab_shows_the_balance_and_links_to_the_log(app, as_role, customer):
    with app.app_context():
        with unit_of_work.unit():
            credits.purchase(SYSTEM, db.session.get(Customer, customer), Decimal("12.5"), "Other", "R-1")
    client = as_role("readonly")
    page = client.get(f"/customers/{customer}").get_data(as_text=True)
    assert "Support credits" in page and f'href="/customers/{customer}/support-credits"' in page and "12.50" in page
    overview = client.get(f"/customers/{customer}/overview", htmx=True).get_data(as_text=True)
    assert "Support credits" in overview and "12.50" in overview
    log = client.get(f"/customers/{customer}/support-credits").get_data(as_text=True)
    assert "Transaction log" in log and "R-1" in log and "+12.50" in log and "system" in log
    assert "Add purchase" not in log and "Reverse" not in log  # read-only staff


def test_a_purchase_with_bad_credits_comes_back_with_the_message_and_the_input(app, as_role, customer):
    client = as_role("staff")
    for typed, message in [("abc", "Enter a number of credits such as 250 or 250.00."), ("-5", "above zero"),
                           ("1.234", "Use at most 2 decimal places."), ("", "Enter a number of credits."),
                           ("1e20", "That number is too large.")]:
        response = buy(client, customer, typed, **{"purchase-note": "kept note"})
        body = response.get_data(as_text=True)
        assert response.status_code == 422, typed
        assert message in body and f'value="{typed}"' in body and 'value="kept note"' in body, typed
        assert "<details class=\"card credit-form\" open>" in body
    missing = buy(client, customer, "5", reference="  ")
    assert missing.status_code == 422 and "Enter the payment reference or PO number." in missing.get_data(as_text=True)
    method = buy(client, customer, "5", method="Bitcoin")
    assert method.status_code == 422 and "Not a valid choice" in method.get_data(as_text=True)
    assert balance(app, customer) == 0
    made = buy(client, customer, "1,000.50", reference="<i>PO</i>-9")
    body = made.get_data(as_text=True)
    assert made.status_code == 200 and made.headers["HX-Trigger"] == "support-credits-changed"
    assert "Purchase of 1,000.50 credits recorded" in body and "&lt;i&gt;PO&lt;/i&gt;-9" in body and "<i>PO" not in body
    assert "staff@example.com" in body  # who made it
    assert balance(app, customer) == Decimal("1000.50")


def test_a_deduction_beyond_the_balance_is_refused_and_keeps_the_picked_deployment(app, as_role, customer):
    with app.app_context():
        with unit_of_work.unit():
            deployment_id = create_deployment(SYSTEM, customer, "PBX", "Head office PBX").id
    client = as_role("staff")
    buy(client, customer, "5")
    picked = {"deployment_id": str(deployment_id), "q": "D-100001 · Head office PBX", "note": "Two hours"}
    refused = deduct(client, customer, "5.50", "TCK-42", **picked)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "has 5.00 credits left: 5.50 cannot be deducted." in body
    assert 'value="5.50"' in body and 'value="TCK-42"' in body and 'value="Two hours"' in body
    assert f'name="deployment_id" value="{deployment_id}"' in body and 'value="D-100001 · Head office PBX"' in body
    unpicked = deduct(client, customer, "1", "TCK-42", q="Head office")
    assert unpicked.status_code == 422 and "Pick the deployment from the list" in unpicked.get_data(as_text=True)
    junk = deduct(client, customer, "1", "TCK-42", deployment_id="1; DROP TABLE", q="x")
    assert junk.status_code == 422 and "Pick the deployment from the list." in junk.get_data(as_text=True)
    no_ticket = deduct(client, customer, "1", "  ")
    assert no_ticket.status_code == 422 and "Enter the ticket reference" in no_ticket.get_data(as_text=True)
    made = deduct(client, customer, "4.75", "TCK-42", **picked)
    body = made.get_data(as_text=True)
    assert made.status_code == 200 and "4.75 credits deducted for ticket TCK-42." in body
    assert "D-100001" in body and "-4.75" in body
    assert balance(app, customer) == Decimal("0.25")


def test_a_deduction_for_another_customers_deployment_is_refused(app, as_role, customer):
    with app.app_context():
        other = create_customer(SYSTEM, {"name": "Other"}, "USD").id
        unit_of_work.commit()
        theirs = create_deployment(SYSTEM, other, "SBC", "Their SBC").id
        unit_of_work.commit()
    client = as_role("staff")
    buy(client, customer, "5")
    refused = deduct(client, customer, "1", "TCK-1", deployment_id=str(theirs), q="D-100001 · Their SBC")
    assert refused.status_code == 422 and "not one of this customer&#39;s" in refused.get_data(as_text=True)
    assert balance(app, customer) == 5


def test_reverse_once_with_a_reason(app, as_role, customer):
    client = as_role("staff")
    buy(client, customer, "10")
    deduct(client, customer, "3", "TCK-1")
    bought, used = transaction_ids(app)
    url = f"/customers/{customer}/support-credits/{used}/reverse"
    page = client.get(f"/customers/{customer}/support-credits").get_data(as_text=True)
    assert f'hx-post="{url}"' in page and "hx-confirm=\"Reverse transaction #2 (-3.00 credits)?" in page
    no_reason = client.post(url, {"note": " "}, htmx=True)
    body = no_reason.get_data(as_text=True)
    assert no_reason.status_code == 422 and "Say why the transaction is reversed" in body
    assert '<details class="row-reverse" open>' in body
    done = client.post(url, {"note": "Wrong customer"}, htmx=True)
    assert done.status_code == 200 and "Transaction #2 reversed by #3 (+3.00 credits)." in done.get_data(as_text=True)
    again = client.post(url, {"note": "Again"}, htmx=True)
    assert again.status_code == 409 and "was reversed already, by #3" in again.get_data(as_text=True)
    of_reversal = client.post(f"/customers/{customer}/support-credits/3/reverse", {"note": "Undo"}, htmx=True)
    assert of_reversal.status_code == 409 and "A reversal is not reversed" in of_reversal.get_data(as_text=True)
    assert balance(app, customer) == 10 and transaction_ids(app) == [bought, used, 3]
    log = client.get(f"/customers/{customer}/support-credits").get_data(as_text=True)
    assert "reversed by #3" in log and "Reversal of #2" in log and "Wrong customer" in log


def test_readonly_staff_cannot_add_deduct_or_reverse(app, as_role, customer):
    with app.app_context():
        with unit_of_work.unit():
            made = credits.purchase(SYSTEM, db.session.get(Customer, customer), Decimal("5"), "Other", "R-1").id
    client = as_role("readonly")
    assert buy(client, customer, "1").status_code == 403
    assert deduct(client, customer, "1").status_code == 403
    assert client.post(f"/customers/{customer}/support-credits/{made}/reverse", {"note": "x"}, htmx=True).status_code == 403
    assert balance(app, customer) == 5 and transaction_ids(app) == [made]


def test_another_customers_transaction_is_not_found(app, as_role, customer):
    with app.app_context():
        other = create_customer(SYSTEM, {"name": "Other"}, "USD")
        unit_of_work.commit()
        theirs = credits.purchase(SYSTEM, other, Decimal("5"), "Other", "R-1").id
        unit_of_work.commit()
    client = as_role("staff")
    response = client.post(f"/customers/{customer}/support-credits/{theirs}/reverse", {"note": "x"}, htmx=True)
    assert response.status_code == 404
    assert client.get("/customers/999/support-credits").status_code == 404
    assert transaction_ids(app) == [theirs]


def test_the_log_pages_newest_first(app, as_role, customer):
    with app.app_context():
        acme = db.session.get(Customer, customer)
        with unit_of_work.unit():
            for n in range(27):
                credits.purchase(SYSTEM, acme, Decimal(1), "Other", f"REF-{n:02d}")
    client = as_role("staff")
    first = client.get(f"/customers/{customer}/support-credits").get_data(as_text=True)
    assert first.index("REF-26") < first.index("REF-25") and "REF-01" not in first
    second = client.get(pager_link(first, "Older →"), htmx=True).get_data(as_text=True)
    assert "REF-01" in second and "REF-00" in second and "REF-02" not in second and "<html" not in second


class FormFields(HTMLParser):
    """The values a browser would send from the page's forms (text, checked boxes, selected options)."""

    def __init__(self):
        super().__init__()
        self.values, self._select, self._textarea = {}, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button"):
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.values[name] = attrs.get("value") or ("y" if attrs.get("type") == "checkbox" else "")
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and ("selected" in attrs or self._select not in self.values):
            self.values[self._select] = attrs.get("value", "")
        elif tag == "textarea":
            self._textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data


def form_values(client, url) -> dict:
    parser = FormFields()
    parser.feed(client.get(url).get_data(as_text=True))
    return parser.values


def test_editing_the_customer_never_changes_the_support_credit_balance(app, as_role, customer):
    with app.app_context():
        with unit_of_work.unit():
            credits.purchase(SYSTEM, db.session.get(Customer, customer), Decimal("7"), "Other", "R-1")
    client = as_role("admin")
    url = f"/customers/{customer}/edit"
    values = form_values(client, url)
    assert "support_credits" not in values and "credits" not in values  # the form has no such field
    # The edit form shows the debit limit with four places and accepts two (reported); type it as a person would.
    values["debit_limit"] = "0"
    values.update({"name": "Acme Renamed", "save_action": "continue", "support_credits": "9999", "credits": "9999",
                   "balance": "9999"})
    response = client.post(url, values)
    assert response.status_code == 303, response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Customer, customer).name == "Acme Renamed"
        assert credits.balance(customer) == Decimal(7)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CreditTransaction)) == 1
