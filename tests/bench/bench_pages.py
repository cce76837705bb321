"""Benchmark: customers, Global Contacts and the Main tab with 100,000 customers and 1,000,000
contacts on PostgreSQL.

Run with `make bench` (or `.venv/bin/python tests/bench/bench_pages.py [--customers N --contacts-each N]`).
It creates a throw-away database, loads customers, contacts and ledger entries with COPY, and times
each page through the app (in-process, one client) as median and 95th percentile of repeated requests.
"""
import argparse
import io
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
STATUSES = ("Active", "Inactive", "Penalty", "Pending Approval")
WORDS = ["North", "Blue", "Silver", "Summit", "Harbor", "Pioneer", "Vertex", "Cedar", "Atlas", "Granite",
         "Telecom", "Networks", "Voice", "Dental", "Logistics", "Legal", "Hotels", "Clinic", "Realty", "Foods"]


FIRST = ["Ana", "Ben", "Chloe", "David", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi", "Liam"]
LAST = ["Almeida", "Brown", "Chen", "Dubois", "Evans", "Fischer", "Garcia", "Haddad", "Ito", "Jensen", "Lopez"]
TYPES = ("Admin", "Maintainer", "Onsite Admin", "Billing", "Technical", "Other")
# Trigram indexes are built after the bulk load, as a bulk loader would.
TRGM = {"ix_contact_name_trgm": "name", "ix_contact_email_trgm": "email", "ix_contact_phone_trgm": "phone",
        "ix_contact_mobile_trgm": "mobile"}


def load_contacts(url: str, customers: int, each: int) -> float:
    rng = random.Random(2)
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        with conn.cursor() as cur:
            for index in TRGM:
                cur.execute(f"DROP INDEX {index}")
            with cur.copy("COPY contact (customer_id, name, email, contact_type, phone, mobile, public_notes, "
                          "private_notes, mobile_verified, email_verified, active, must_change_password, "
                          "created_at, updated_at) FROM STDIN") as copy:
                n = 0
                for customer in range(1, customers + 1):
                    for _ in range(each):
                        n += 1
                        first, last = rng.choice(FIRST), rng.choice(LAST)
                        copy.write_row((customer, f"{first} {last}", f"{first}.{last}.{n}@c{customer}.example".lower(),
                                        rng.choice(TYPES), f"+1 555 {rng.randint(100, 999)} {n % 10000:04d}", "", "", "",
                                        False, True, True, False, "2026-01-01", "2026-01-01"))
            for index, column in TRGM.items():
                cur.execute(f"CREATE INDEX {index} ON contact USING gin ({column} gin_trgm_ops)")
            cur.execute("ANALYZE contact")
        conn.commit()
    return time.perf_counter() - started


def load(url: str, customers: int, ledger_per_customer: int) -> float:
    rng = random.Random(1)
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        with conn.cursor() as cur:
            buf = io.StringIO()
            for i in range(1, customers + 1):
                name = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {i}"
                buf.write(f"{i}\t{name}\t{STATUSES[i % 4]}\tUSD\t100\t30\t0\t0\t\t\t\t\t\t\t\t\t2026-01-01\t2026-01-01\n")
            buf.seek(0)
            with cur.copy("COPY customer (id, name, status, currency, debit_limit, channel_limit, flow_speed, "
                          "channels_in_use, email, phone, address_line1, address_line2, city, region, postal_code, "
                          "country, created_at, updated_at) FROM STDIN") as copy:
                copy.write(buf.read())
            cur.execute("SELECT setval('customer_id_seq', %s)", (customers,))
            buf = io.StringIO()
            for i in range(1, customers + 1):
                for _ in range(ledger_per_customer):
                    amount = rng.randint(100, 10000) / 100
                    buf.write(f"{i}\tpayment\t{amount}\t\t2026-01-01\n")
            buf.seek(0)
            with cur.copy("COPY ledger_entry (customer_id, kind, amount, description, created_at) FROM STDIN") as copy:
                copy.write(buf.read())
            cur.execute("ANALYZE")
        conn.commit()
    return time.perf_counter() - started


def timed(client, url, repeat, headers=None):
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url, headers=headers or {})
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--ledger", type=int, default=5)
    parser.add_argument("--contacts-each", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--keep", metavar="DBNAME", help="load into this database once and keep it (reused next time)")
    args = parser.parse_args()

    name = args.keep or f"panel_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(ADMIN_URL, autocommit=True)
    exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None
    if not exists:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN_URL.rsplit("/", 1)[0]
    try:
        os.environ["PANEL_INSTANCE_PATH"] = f"/tmp/{name}"
        from flask_migrate import upgrade

        from panel import create_app
        from panel.extensions import db
        from panel import unit_of_work
        from panel.staff import create_staff_user

        app = create_app({"SQLALCHEMY_DATABASE_URI": f"{base.replace('postgresql://', 'postgresql+psycopg://')}/{name}",
                          "BCRYPT_ROUNDS": 4, "SECRET_KEY": "bench"})
        if not exists:
            with app.app_context():
                upgrade()
            seconds = load(f"{base}/{name}", args.customers, args.ledger)
            print(f"loaded {args.customers:,} customers and {args.customers * args.ledger:,} ledger entries in {seconds:.1f} s")
            seconds = load_contacts(f"{base}/{name}", args.customers, args.contacts_each)
            print(f"loaded {args.customers * args.contacts_each:,} contacts (and built their indexes) in {seconds:.1f} s")
            with app.app_context():
                create_staff_user("bench@example.com", "bench password 123", "readonly")
                unit_of_work.commit()
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        client.post("/login", data={"csrf_token": token, "email": "bench@example.com", "password": "bench password 123"})
        mid = args.customers // 2
        hx = {"HX-Request": "true"}

        def deep(path: str, model, depth: int) -> str:
            """A keyset page `depth` rows into a name-ordered list, as following Next that far would reach it."""
            from panel import pages

            with app.test_request_context():
                row = db.session.scalars(sa.select(model).order_by(model.name, model.id).offset(depth - 1).limit(1)).one()
                return f"{path}?after={pages.cursor((row.name, row.id), depth + 1)}"
        from panel.contacts.models import Contact
        from panel.customers.models import Customer
        import sqlalchemy as sa
        cases = [
            ("customers list, page 1", "/customers", None),
            ("customers list, page 200 (row 10,000)", deep("/customers", Customer, 199 * 50), None),
            ("customers list, last page", "/customers?last=1", None),
            ("status filter (Penalty)", "/customers?status=Penalty", None),
            ("search by name fragment 'arbor tel'", "/customers?q=arbor+tel", hx),
            ("search by id", f"/customers?q={mid}", hx),
            ("search with no match", "/customers?q=zzzzqqq", hx),
            ("Main tab", f"/customers/{mid}", None),
            ("Main tab overview poll (htmx)", f"/customers/{mid}/overview", hx),
            ("customer audit log", f"/customers/{mid}/audit", None),
            ("Main tab contacts section (htmx)", f"/customers/{mid}/contacts", hx),
            ("Global Contacts, page 1", "/contacts", None),
            ("Global Contacts, page 100 (row 5,000)", deep("/contacts", Contact, 99 * 50), None),
            ("Global Contacts, last page", "/contacts?last=1", None),
            ("Global Contacts search 'ines ito'", "/contacts?q=ines+ito", hx),
            ("Global Contacts search by e-mail fragment", f"/contacts?q=%40c{mid}.example", hx),
            ("Global Contacts search by phone fragment '555 123'", "/contacts?q=555+123", hx),
            ("Global Contacts filtered by customer id", f"/contacts?customer={mid}", hx),
            ("Global Contacts filtered by customer name", "/contacts?customer=harbor+telecom+5", hx),
            ("Global Contacts filtered by type (Billing)", "/contacts?type=Billing", hx),
            ("Delay Log", "/delay-log", None),
        ]
        total = args.customers * args.contacts_each
        print(f"\n| page ({args.customers:,} customers, {total:,} contacts) | median ms | p95 ms |\n|---|---:|---:|")
        for label, url, headers in cases:
            timed(client, url, 3, headers)  # warm up
            median, p95 = timed(client, url, args.repeat, headers)
            print(f"| {label} | {median:.1f} | {p95:.1f} |")
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if os.environ.get("BENCH_EXPLAIN"):
            with psycopg.connect(f"{base}/{name}") as conn:
                for q in ("arbor tel", "zzzzqqq"):
                    plan = conn.execute("EXPLAIN ANALYZE SELECT * FROM customer WHERE name ILIKE %s ESCAPE '\\' ORDER BY name, id LIMIT 51", (f"%{q}%",)).fetchall()
                    print("\n".join(r[0] for r in plan))
    finally:
        if not args.keep:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()
