"""The Store's hot pages issue the same number of SQL statements with a small catalogue and cart as with a large
one (no query per item, per category or per cart line), and no more than they need: the Store page, a cart
change (its htmx answer is the cart alone) and the checkout page. (Counts, not timings: tests/bench/bench_store.py.)"""
from decimal import Decimal

from panel.extensions import db
from panel.store import catalogue
from panel.store.models import CartLine, Product, ProductPrice
from tests.store.factories import shop
from tests.test_query_counts import count_queries

# Every statement of the request (the web session's read and the contact's included), pinned so that a query
# added to one of them is noticed. They were 20, 20 and 14 before the menu, the cart and the customer were each
# read once per request.
MOST = {"Store page": 7, "cart change": 6, "checkout page": 8}


def grow(app, ids: dict, products: int, lines: int) -> None:
    """`products` more credits products in Hourly Support (the first `lines` of them added to the cart), each priced
    in USD and EUR."""
    with app.app_context():
        for i in range(products):
            product = Product(sku=f"GROW-{i:04d}", name=f"Grown {i:04d}", tab="support", category="Hourly Support",
                              kind="credits", credits=Decimal(1), position=i)
            db.session.add(product)
            db.session.flush()
            db.session.add_all([ProductPrice(product_id=product.id, currency="USD", amount=Decimal(10)),
                                ProductPrice(product_id=product.id, currency="EUR", amount=Decimal(9))])
            if i < lines:
                db.session.add(CartLine(cart_id=ids["cart_id"], product_id=product.id, quantity=1))
        db.session.commit()
        db.session.remove()


def counts(client, ids: dict) -> dict:
    line = ids["lines"]["credits"]
    checks = {
        "Store page": lambda: client.get("/portal/store?tab=support&category=Hourly+Support"),
        "cart change": lambda: client.post(f"/portal/store/cart/lines/{line}", {"quantity": "3", "tab": "support"},
                                           htmx=True),
        "checkout page": lambda: client.get("/portal/store/checkout"),
    }
    return {name: count_queries(client.client.application, call) for name, call in checks.items()}


def test_store_cart_and_checkout_issue_as_many_queries_with_100_items_and_20_cart_lines_as_with_a_few(
        app, portal_client):
    with app.app_context():
        ids = shop()
    client = portal_client(ids["email"])
    client.token()
    for _ in range(2):  # the first requests of a session may write it (sign-in, CSRF token): not what is counted
        counts(client, ids)
    small = counts(client, ids)
    grow(app, ids, 100, 16)
    large = counts(client, ids)
    assert large == small
    assert all(small[name] <= most for name, most in MOST.items()), small


def test_a_large_category_is_shown_a_keyset_page_at_a_time_with_the_shared_pager(app, portal_client):
    with app.app_context():
        ids = shop()
    grow(app, ids, 30, 0)
    client = portal_client(ids["email"])
    first = client.get("/portal/store?tab=support&category=Hourly+Support").get_data(as_text=True)
    shown = first.count('class="card store-item"')
    assert shown == catalogue.ITEMS_PER_PAGE and 'aria-label="Pages of Hourly Support"' in first
    assert "Rows 1–24" in first and "Grown 0022" in first and "Grown 0023" not in first
    after = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    second = client.get(after).get_data(as_text=True)
    assert "Rows 25–31" in second and "Grown 0023" in second and "Grown 0029" in second and "Grown 0022" not in second
    assert second.count('class="card store-item"') == 7  # 5 support credits and 30 grown: 31 in the category
