"""Staff Orders pages: the list with its filters and cursor, an order's page, Record payment (which pays
and fulfils), a reused reference refused by its field, Cancel, Mark shipped, the Main tab's section; the
portal's Orders › History."""
import re

import sqlalchemy as sa

from panel import actor as actors
from panel import unit_of_work
from panel.contacts.models import Contact
from panel.extensions import db
from panel.store import checkout, orders
from panel.store.models import Order
from panel.support.models import CreditTransaction
from tests.helpers import staff_sign_in
from tests.store.factories import shop
from tests.store.test_checkout_domain import full_submission


def placed(app, email="buyer@acme.example", **changes) -> tuple[dict, str]:
    with app.app_context():
        ids = shop(email=email)
        order = checkout.place(actors.contact(db.session.get(Contact, ids["contact_id"])), full_submission(ids, **changes))
        unit_of_work.commit()
        return ids, order.number


def test_the_orders_page_filters_by_status_and_customer_and_pages_by_cursor(app, as_role, monkeypatch, portal_client):
    first_ids, first = placed(app)
    _, second = placed(app, "two@acme.example")
    client = as_role("staff")
    html = client.get("/orders").get_data(as_text=True)
    assert html.index(second) < html.index(first)  # newest first
    assert first in client.get(f"/orders?customer_id={first_ids['customer_id']}").get_data(as_text=True)
    assert second not in client.get(f"/orders?customer_id={first_ids['customer_id']}").get_data(as_text=True)
    assert first not in client.get("/orders?status=Paid").get_data(as_text=True)
    monkeypatch.setattr(orders, "PAGE_SIZE", 1)  # the shared keyset pages: First / Previous / Next / Last
    top = client.get("/orders").get_data(as_text=True)
    assert second in top and first not in top and "Rows 1–1" in top
    following = re.search(r'href="(/orders\?[^"]*after=[^"]+)"', top).group(1).replace("&amp;", "&")
    paged = client.get(following).get_data(as_text=True)
    assert first in paged and second not in paged and "Rows 2–2" in paged and "Newest" in paged
    last = client.get("/orders?last=1").get_data(as_text=True)
    assert first in last and second not in last
    assert "Rows 1–1" in client.get("/orders?after=forged").get_data(as_text=True)  # a bad cursor: the first page
    portal = portal_client(first_ids["email"])
    assert first in portal.get("/portal/orders").get_data(as_text=True)
    assert client.get("/orders?customer_id=999999").status_code == 404


def test_record_payment_pays_fulfils_and_refuses_a_reference_used_before(app, as_role):
    ids, number = placed(app)
    _, other = placed(app, "two@acme.example")
    client = as_role("staff")
    page = client.get(f"/orders/{number}").get_data(as_text=True)
    assert "Record payment" in page and "Awaiting payment" in page and "Cancel" in page
    missing = client.post(f"/orders/{number}/payment", {"method": "wire", "reference": ""})
    assert missing.status_code == 422 and "Enter the payment" in missing.get_data(as_text=True)
    done = client.post(f"/orders/{number}/payment", {"method": "wire", "reference": "WIRE-55"})
    assert done.status_code == 303
    page = client.get(f"/orders/{number}").get_data(as_text=True)
    assert "Fulfilled" in page and "WIRE-55" in page and "to ship (shipment" in page
    reused = client.post(f"/orders/{other}/payment", {"method": "cheque", "reference": "WIRE-55"})
    assert reused.status_code == 422 and f"already paid {number}" in reused.get_data(as_text=True)
    with app.app_context():
        purchases = db.session.scalars(sa.select(CreditTransaction)).all()
        assert [(p.reference, p.credits) for p in purchases] == [(number, 10)]
    shipped = client.post(f"/orders/{number}/ship", {"tracking_reference": "1Z-42"})
    assert shipped.status_code == 303
    assert "Shipped: tracking 1Z-42" in client.get(f"/orders/{number}").get_data(as_text=True)


def test_cancel_needs_a_reason_and_read_only_staff_change_nothing(app, as_role, staff_users):
    _, number = placed(app)
    readonly = staff_sign_in(app, staff_users["readonly"])
    assert readonly.post(f"/orders/{number}/cancel", {"reason": "no"}).status_code == 403
    assert readonly.get(f"/orders/{number}").status_code == 200
    staff = as_role("staff")
    assert staff.post(f"/orders/{number}/cancel", {"reason": ""}).status_code == 422
    assert staff.post(f"/orders/{number}/cancel", {"reason": "Ordered twice"}).status_code == 303
    page = staff.get(f"/orders/{number}").get_data(as_text=True)
    assert "Cancelled" in page and "Ordered twice" in page and "Record payment" not in page


def test_the_main_tab_lists_the_customers_orders_and_quotes(app, as_role):
    ids, number = placed(app)
    with app.app_context():
        from tests.store.factories import CartLineFactory

        CartLineFactory(cart_id=ids["cart_id"], product_id=ids["products"]["hardware"])
        quote = checkout.place(actors.contact(db.session.get(Contact, ids["contact_id"])), full_submission(
            ids, quote=True, deployments={}, organisations={}))
        unit_of_work.commit()
        quote_number = quote.number
    client = as_role("staff")
    assert 'id="orders"' in client.get(f"/customers/{ids['customer_id']}").get_data(as_text=True)
    section = client.get(f"/customers/{ids['customer_id']}/orders", htmx=True).get_data(as_text=True)
    assert number in section and quote_number in section and "<html" not in section


def test_the_portal_history_lists_the_customers_orders(app, portal_client):
    ids, number = placed(app)
    client = portal_client(ids["email"])
    html = client.get("/portal/orders").get_data(as_text=True)
    assert number in html and "Orders › History" in html
    assert re.search(r"Awaiting payment", html)
    assert "No quotes yet." in client.get("/portal/quotes").get_data(as_text=True)


def test_staff_convert_a_quote_once_when_the_customer_accepted_the_terms(app, as_role):
    _, number = placed(app, quote=True, payment_method="")
    client = as_role("staff")
    assert "Convert to order" in client.get(f"/orders/{number}").get_data(as_text=True)
    refused = client.post(f"/orders/{number}/convert", {"method": "wire"})
    assert refused.status_code == 422 and "Terms and Conditions" in refused.get_data(as_text=True)
    done = client.post(f"/orders/{number}/convert", {"method": "wire", "terms": "y"})
    assert done.status_code == 303 and "/orders/O-" in done.headers["Location"]
    page = client.get(f"/orders/{number}").get_data(as_text=True)
    assert "Converted into" in page and "Convert to order" not in page
    assert client.post(f"/orders/{number}/convert", {"method": "wire", "terms": "y"}).status_code == 422
