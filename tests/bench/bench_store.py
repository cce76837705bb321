"""Benchmark: the Store's pages with 1,000 products and 100,000 orders (with their lines) on PostgreSQL.

Run with `.venv/bin/python tests/bench/bench_store.py [--products N --orders N --customers N]` (not part of
`make test`). It creates a throw-away database, loads customers, products with their prices, orders and their
lines with executemany (SQLAlchemy's insertmanyvalues batches), a cart of 10 lines for the buying contact, and
times each page through the app (in-process clients: one contact, one read-only staff user) as median and 95th
percentile of repeated requests, beside GET /health/db (the baseline of the same run) and the customer list.
"""
import argparse
import os
import random
import statistics
import sys
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CATEGORIES = {"support": ["Hourly Support", "Priority Support", "Training"],
              "plans": ["Peace of Mind Plans", "Care Plans"],
              "licences": ["Commercial Modules", "Seats", "Integrations"],
              "hardware": ["Gateways", "Phones"]}
KIND_OF_TAB = {"support": "credits", "plans": "service", "licences": "service", "hardware": "hardware"}
STATUSES = ("Awaiting payment", "Paid", "Fulfilled", "Fulfilled", "Fulfilled", "Cancelled")
CHUNK = 5_000


def load(app, customers: int, products: int, orders: int) -> tuple[dict, float]:
    import sqlalchemy as sa

    from panel import unit_of_work
    from panel.customers.models import Customer
    from panel.extensions import db
    from panel.staff import create_staff_user
    from panel.store.models import Cart, CartLine, Order, OrderLine, Product, ProductPrice
    from panel.types import utcnow
    from tests.factories import ContactFactory, CustomerFactory

    rng = random.Random(3)
    started = time.perf_counter()
    with app.app_context():
        buyer = CustomerFactory(name="Bench Buyer", currency="USD")
        contact = ContactFactory(customer_id=buyer.id, email="buyer@bench.example", contact_type="Billing")
        create_staff_user("bench@example.com", "bench password 123", "readonly")
        unit_of_work.commit()
        buyer_id, contact_id = buyer.id, contact.id
        for start in range(0, customers, CHUNK):
            db.session.execute(sa.insert(Customer), [{"name": f"Customer {i}", "status": "Active", "currency": "USD"}
                                                      for i in range(start, min(customers, start + CHUNK))])
        customer_ids = [buyer_id] + list(db.session.scalars(sa.select(Customer.id).where(Customer.id != buyer_id)))
        rows, prices = [], []
        tabs = list(CATEGORIES)
        for i in range(products):
            tab = tabs[i % len(tabs)]
            kind = KIND_OF_TAB[tab]
            rows.append({"sku": f"B-{i:05d}", "name": f"{CATEGORIES[tab][i % len(CATEGORIES[tab])]} item {i}",
                         "tab": tab, "category": CATEGORIES[tab][(i // len(tabs)) % len(CATEGORIES[tab])], "kind": kind,
                         "credits": Decimal(5) if kind == "credits" else None, "position": i})
        db.session.execute(sa.insert(Product), rows)
        product_rows = db.session.execute(sa.select(Product.id, Product.sku, Product.name, Product.kind)).all()
        for product in product_rows:
            prices.append({"product_id": product.id, "currency": "USD", "amount": Decimal(rng.randint(10, 900))})
            prices.append({"product_id": product.id, "currency": "EUR", "amount": Decimal(rng.randint(10, 900))})
        db.session.execute(sa.insert(ProductPrice), prices)
        now = utcnow()
        for start in range(0, orders, CHUNK):
            batch, lines = [], []
            for n in range(start, min(orders, start + CHUNK)):
                customer_id = buyer_id if n % 100 == 0 else rng.choice(customer_ids)
                quote = n % 20 == 0
                batch.append({"number": f"{'Q' if quote else 'O'}-{n + 1:06d}", "kind": "quote" if quote else "order",
                              "customer_id": customer_id, "contact_id": contact_id if customer_id == buyer_id else None,
                              "placed_by": "bench", "status": "Quote" if quote else STATUSES[n % len(STATUSES)],
                              "currency": "USD", "subtotal": Decimal(500), "total": Decimal(500),
                              "payment_method": "wire", "terms_version": 1,
                              "created_at": now - timedelta(minutes=orders - n),
                              "valid_until": now + timedelta(days=30) if quote else None})
            ids = db.session.scalars(sa.insert(Order).returning(Order.id, sort_by_parameter_order=True), batch).all()
            for order_id, order in zip(ids, batch):
                for position in (1, 2):
                    product = product_rows[rng.randrange(len(product_rows))]
                    lines.append({"order_id": order_id, "customer_id": order["customer_id"], "position": position,
                                  "product_id": product.id, "sku": product.sku, "name": product.name,
                                  "kind": product.kind, "unit_price": Decimal(250), "quantity": 1,
                                  "amount": Decimal(250)})
            db.session.execute(sa.insert(OrderLine), lines)
            unit_of_work.commit()
        cart = Cart(contact_id=contact_id, customer_id=buyer_id)
        db.session.add(cart)
        db.session.flush()
        for product in product_rows[:10]:
            db.session.add(CartLine(cart_id=cart.id, product_id=product.id, quantity=2))
        unit_of_work.commit()
        line_id = db.session.scalar(sa.select(sa.func.min(CartLine.id)))
        latest = db.session.scalar(sa.select(Order.number).where(Order.customer_id == buyer_id, Order.kind == "order")
                                   .order_by(Order.id.desc()).limit(1))
        db.session.execute(sa.text("ANALYZE"))
        unit_of_work.commit()
    return {"line_id": line_id, "order": latest, "buyer": buyer_id}, time.perf_counter() - started


def timed(call, repeat):
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = call()
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=1_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    name = f"panel_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(ADMIN_URL, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN_URL.rsplit("/", 1)[0]
    try:
        os.environ["PANEL_INSTANCE_PATH"] = f"/tmp/{name}"
        from flask_migrate import upgrade

        from panel import create_app
        from panel.extensions import db
        from tests.helpers import PanelClient, portal_sign_in

        app = create_app({"SQLALCHEMY_DATABASE_URI": f"{base.replace('postgresql://', 'postgresql+psycopg://')}/{name}",
                          "BCRYPT_ROUNDS": 4, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": True})
        with app.app_context():
            upgrade()
        found, seconds = load(app, args.customers, args.products, args.orders)
        print(f"loaded {args.customers:,} customers, {args.products:,} products and {args.orders:,} orders "
              f"({args.orders * 2:,} lines) in {seconds:.1f} s")
        portal = portal_sign_in(app, "buyer@bench.example")
        staff = PanelClient(app.test_client())
        assert staff.login("bench@example.com", "bench password 123").status_code == 303
        line = found["line_id"]
        cases = [
            ("baseline GET /health/db", lambda: staff.get("/health/db")),
            ("customers list, page 1 (staff)", lambda: staff.get("/customers")),
            ("customer search 'customer 12' (staff, htmx)", lambda: staff.get("/customers?q=customer+12", htmx=True)),
            ("the buyer's Main tab (staff)", lambda: staff.get(f"/customers/{found['buyer']}")),
            ("portal home", lambda: portal.get("/portal/")),
            ("portal Store, Support › Hourly Support", lambda: portal.get("/portal/store?tab=support&category=Hourly+Support")),
            ("portal Store, Licences › Seats", lambda: portal.get("/portal/store?tab=licences&category=Seats")),
            ("cart with 10 lines: change a quantity (htmx)",
             lambda: portal.post(f"/portal/store/cart/lines/{line}", {"quantity": "2"}, htmx=True)),
            ("checkout page (10 lines)", lambda: portal.get("/portal/store/checkout")),
            ("portal Orders › History", lambda: portal.get("/portal/orders")),
            ("staff /orders, page 1", lambda: staff.get("/orders")),
            ("staff /orders, last page", lambda: staff.get("/orders?last=1")),
            ("an order's page (staff)", lambda: staff.get(f"/orders/{found['order']}")),
            ("an order's page (portal)", lambda: portal.get(f"/portal/orders/{found['order']}")),
        ]
        print(f"\n| page ({args.products:,} products, {args.orders:,} orders) | median ms | p95 ms | × baseline |\n"
              "|---|---:|---:|---:|")
        baseline = None
        for label, call in cases:
            timed(call, 3)  # warm up
            median, p95 = timed(call, args.repeat)
            baseline = baseline or median
            print(f"| {label} | {median:.1f} | {p95:.1f} | {median / baseline:.1f} |")
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()
