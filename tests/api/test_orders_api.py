"""GET /api/v1/orders and /api/v1/orders/<number>: the `orders` scope, keyset pages in id order that read
each order once, filters, refused parameters, and an order as bought with its lines and invoice."""
import pytest
import sqlalchemy as sa

from panel import actor as actors
from panel import unit_of_work
from panel.api.tokens import issue_token
from panel.auth.models import StaffUser
from panel.contacts.models import Contact
from panel.extensions import db
from panel.store import checkout, orders
from panel.store.models import Order
from tests.store.factories import CartLineFactory, shop
from tests.store.test_checkout_domain import full_submission

URL = "/api/v1/orders"


def placed_order_and_quote(email: str = "api.buyer@acme.example") -> tuple[str, str]:
    """An order (wire, awaiting payment) and a quote converted from nothing yet, of one new customer."""
    ids = shop(email=email)
    contact = actors.contact(db.session.get(Contact, ids["contact_id"]))
    order = checkout.place(contact, full_submission(ids))
    unit_of_work.commit()
    order_number = order.number
    CartLineFactory(cart_id=ids["cart_id"], product_id=ids["products"]["credits"], quantity=3)
    quote = checkout.place(actors.contact(db.session.get(Contact, ids["contact_id"])), full_submission(
        ids, quote=True, deployments={}, organisations={next(iter(_cart_line_ids(ids))): str(ids["customer_id"])},
        shipping_rate_id="", shipping_address=""))
    unit_of_work.commit()
    return order_number, quote.number


def _cart_line_ids(ids):
    return [line.id for line in checkout.cart_lines(actors.contact(db.session.get(Contact, ids["contact_id"])))]


@pytest.fixture
def token(app):
    with app.app_context():
        made = issue_token("billing", ["orders"])
        unit_of_work.commit()
        return made


def get(client, url, token, **query):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.client.get(url, query_string=query, headers=headers)


def test_an_order_as_bought_with_its_lines_and_invoice(app, client, token):
    with app.app_context():
        number, quote = placed_order_and_quote()
    body = get(client, f"{URL}/{number}", token).get_json()
    assert body["number"] == number and body["status"] == "Awaiting payment" and body["total"] == "1390.00"
    assert body["payment_method"] == "wire" and body["po_number"] == "PO-77" and body["invoice_number"].startswith("INV-")
    assert [(line["sku"], line["quantity"], line["amount"]) for line in body["lines"]] == [
        ("SUP-5", 2, "500.00"), ("POMP-1", 1, "500.00"), ("MOD-1", 1, "75.00"), ("GW-4", 1, "300.00")]
    assert body["lines"][0]["credits"] == "5.00" and body["lines"][1]["deployment_id"]
    quoted = get(client, f"{URL}/{quote}", token).get_json()
    assert quoted["kind"] == "quote" and quoted["valid_until"] and quoted["invoice_number"] is None
    assert get(client, f"{URL}/O-999999", token).status_code == 404


def test_pages_follow_the_cursor_and_read_each_order_once(app, client, token):
    with app.app_context():
        made = [placed_order_and_quote(f"b{n}@acme.example") for n in range(3)]
    seen, cursor = [], None
    while True:
        body = get(client, URL, token, limit=2, **({"cursor": cursor} if cursor else {})).get_json()
        seen += [order["number"] for order in body["orders"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(number for pair in made for number in pair) and len(seen) == len(set(seen)) == 6
    quotes = get(client, URL, token, kind="quote").get_json()["orders"]
    assert {o["number"] for o in quotes} == {quote for _, quote in made}
    assert get(client, URL, token, status="Awaiting payment").get_json()["orders"][0]["status"] == "Awaiting payment"


def test_a_paid_and_fulfilled_order_says_so(app, client, token, staff_users):
    with app.app_context():
        number, _ = placed_order_and_quote()
        staff = actors.staff(db.session.scalar(sa.select(StaffUser).where(StaffUser.role == "staff")))
        orders.record_payment(staff, db.session.scalar(sa.select(Order).where(Order.number == number)), "wire", "W-1")
        unit_of_work.commit()
    body = get(client, f"{URL}/{number}", token).get_json()
    assert body["status"] == "Fulfilled" and body["paid_at"] and all(line["fulfilled_at"] for line in body["lines"])


@pytest.mark.parametrize("query", [{"status": "Lost"}, {"kind": "cart"}, {"limit": "0"}, {"cursor": "nope"},
                                   {"customer": "1"}])
def test_bad_parameters_are_refused(client, token, query):
    response = get(client, URL, token, **query)
    assert response.status_code == 422 and response.get_json()["error"] == "invalid"


def test_the_orders_scope_is_needed(app, client):
    with app.app_context():
        invoices_only = issue_token("other", ["invoices"])
        unit_of_work.commit()
    assert get(client, URL, invoices_only).status_code == 401
    assert get(client, URL, None).status_code == 401
