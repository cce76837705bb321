"""Benchmark: the credit check the switch asks before every call (POST /api/v1/calls/authorize), served by
gunicorn on PostgreSQL with the large data set, beside the baseline route in the same run.

Run with `.venv/bin/python tests/bench/bench_authorize.py [--database NAME] [--clients N] [--seconds S]
[--workers W --threads T] [--customers N --calls N --audit N]`. Without --database it creates a throw-away
database, fills it with `seed-demo --scale large` (100,000 customers and 10,000,000 calls by default; pass
smaller sizes for a quick run) and drops it at the end; with --database it uses one already seeded and
keeps it. Not part of `make test`.

--clients concurrent clients (16 by default, as a switch's call-setup threads) each keep one keep-alive
connection and cycle through: the baseline (`GET /health/db`: one primary-key lookup, no token) and
authorize by customer id, by SIP username and by caller IP (a trunk address of the customer: its own /32,
or an address inside its /24 range, so both lookups are measured), outbound and inbound, for random
customers. Half of the asks find
a cached balance younger than authorize_balance_max_age (60 s), the rest compute it (a customer asked for the
first time). The table gives each case's median and p99 and their ratio to the baseline's, and the answers
per second of the whole run; then a run of authorize only, which is the most answers per second this
machine gives.
"""
import argparse
import http.client
import json
import os
import random
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.load.harness import Gunicorn, percentile  # noqa: E402

ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BASELINE = "baseline: GET /health/db"


class Client:
    def __init__(self, port: int, token: str):
        self.port, self.token, self.conn = port, token, None

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, float, dict | None]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers |= {"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"}
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=data, headers=headers)
            raw = self.conn.getresponse()
            payload = raw.read()
        except Exception:
            self.conn.close()
            self.conn = None
            raise
        ms = (time.perf_counter() - started) * 1000
        return raw.status, ms, json.loads(payload) if body is not None and payload else None


def run(port, token, cases, clients, seconds, customers, usernames, addresses):
    times: dict[str, list[float]] = {label: [] for label, _ in cases}
    errors: list[str] = []
    until = time.monotonic() + seconds

    def one(seed):
        rng, client = random.Random(seed), Client(port, token)
        while time.monotonic() < until:
            label, make = rng.choice(cases)
            method, path, body = make(rng, customers, usernames, addresses)
            try:
                status, ms, answer = client.request(method, path, body)
            except Exception as error:  # noqa: BLE001 - counted
                errors.append(f"{label}: {error}")
                continue
            if status != 200 or (answer is not None and "allowed" not in answer):
                errors.append(f"{label}: {status}")
            times[label].append(ms)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return times, errors


def by_id(direction):
    return lambda rng, n, _, __: ("POST", "/api/v1/calls/authorize", {"customer_id": rng.randint(1, n), "direction": direction})


def by_username(rng, _, usernames, __):
    return "POST", "/api/v1/calls/authorize", {"sip_username": rng.choice(usernames), "direction": "outbound"}


def by_ip(rng, _, __, addresses):
    return "POST", "/api/v1/calls/authorize", {"ip": rng.choice(addresses), "direction": "outbound"}


def trunk_networks(customer_id: int) -> tuple[str, str, str]:
    """A customer's trunk addresses in the benchmark (customers up to 4,096): one exact address (10.x.y.1), a
    /24 range of its own in 172.16.0.0/12, and an address that range holds but no entry lists exactly."""
    high, low = customer_id >> 8 & 255, customer_id & 255
    prefix = f"172.{16 + (customer_id >> 8 & 15)}.{low}"
    return f"10.{high}.{low}.1", f"{prefix}.0/24", f"{prefix}.77"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", help="a database already filled by seed-demo --scale large (kept)")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=10_000_000)
    parser.add_argument("--audit", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    base = ADMIN_URL.rsplit("/", 1)[0]
    admin = psycopg.connect(ADMIN_URL, autocommit=True)
    name = args.database or f"panel_bench_authorize_{uuid.uuid4().hex[:8]}"
    url = f"{base}/{name}"
    instance = f"/tmp/{name}"
    os.environ["PANEL_INSTANCE_PATH"] = instance
    try:
        import sqlalchemy as sa
        from flask_migrate import upgrade

        from panel import create_app, unit_of_work
        from panel.actor import SYSTEM
        from panel.api.tokens import issue_token
        from panel.customers.models import Customer
        from panel.customers.trunks import add_trunk
        from panel.extensions import db
        from panel.numbering.allocation import NumberRange, assign_next_block, save_range
        from panel.numbering.sip import create_sip_user

        if not args.database:
            admin.execute(f'CREATE DATABASE "{name}"')
        app = create_app({"SQLALCHEMY_DATABASE_URI": url.replace("postgresql://", "postgresql+psycopg://"),
                          "BCRYPT_ROUNDS": 4, "SECRET_KEY": "bench"})
        seeded = "an existing database"
        with app.app_context():
            if not args.database:
                from panel.seed_large import seed_large

                upgrade()
                started = time.monotonic()
                print(seed_large(instance, customers=args.customers, calls=args.calls, audit=args.audit))
                seeded = (f"seed-demo --scale large with {args.customers:,} customers, {args.calls:,} calls, "
                          f"{args.audit:,} audit entries ({time.monotonic() - started:.0f} s)")
            token = issue_token(f"bench {uuid.uuid4().hex[:6]}", ["calls"])
            unit_of_work.commit()
            customers = db.session.scalar(sa.text("SELECT max(id) FROM customer"))
            usernames = list(db.session.scalars(sa.text("SELECT username FROM sip_user LIMIT 1000")))
            if not usernames:  # the large seed has no SIP users: give 200 customers one each
                with unit_of_work.unit():
                    save_range(NumberRange(100_000, 999_999, 10))
                with unit_of_work.unit():
                    for customer_id in range(1, min(customers, 200) + 1):
                        block = assign_next_block(SYSTEM, customer_id)
                        create_sip_user(SYSTEM, customer_id, str(block.start_number), None)
                        usernames.append(str(block.start_number))
            addresses = []
            have_trunks = db.session.scalar(sa.text("SELECT count(*) FROM trunk_address"))
            with unit_of_work.unit():  # 1,000 customers get an exact address and a /24 of their own
                for customer_id in range(1, min(customers, 1000) + 1):
                    exact, network, inside = trunk_networks(customer_id)
                    if not have_trunks:
                        customer = db.session.get(Customer, customer_id)
                        add_trunk(SYSTEM, customer, exact)
                        add_trunk(SYSTEM, customer, network)
                    addresses += [exact, inside]
            db.session.remove()
            db.engine.dispose()

        mixed = [(BASELINE, lambda rng, n, u, a: ("GET", "/health/db", None)),
                 ("authorize by customer id, outbound", by_id("outbound")),
                 ("authorize by customer id, inbound", by_id("inbound")),
                 ("authorize by SIP username", by_username),
                 ("authorize by caller IP (exact or in a /24)", by_ip)]
        with Gunicorn(url, instance, args.workers, args.threads) as server:
            run(server.port, token, mixed, args.clients, 3, customers, usernames, addresses)  # warm up
            times, errors = run(server.port, token, mixed, args.clients, args.seconds, customers, usernames, addresses)
            only, only_errors = run(server.port, token, mixed[1:2], args.clients, args.seconds / 2, customers, usernames,
                                    addresses)
        total = sum(len(v) for v in times.values())
        b_med, b_p99 = statistics.median(times[BASELINE]), percentile(times[BASELINE], 0.99)
        print(f"\n{seeded}; gunicorn -w {args.workers} -k gthread --threads {args.threads}; {args.clients} "
              f"concurrent clients for {args.seconds:.0f} s: {total:,} answers ({total / args.seconds:,.0f}/s), "
              f"{len(errors)} errors; {os.cpu_count()} cores\n")
        print("| case | answers | median ms | p99 ms | median ÷ baseline | p99 ÷ baseline |\n|---|---:|---:|---:|---:|---:|")
        for label, _ in mixed:
            values = times[label]
            med, p99 = statistics.median(values), percentile(values, 0.99)
            print(f"| {label} | {len(values):,} | {med:.1f} | {p99:.1f} | {med / b_med:.1f} | {p99 / b_p99:.1f} |")
        values = only[mixed[1][0]]
        print(f"\nauthorize only, {args.clients} clients for {args.seconds / 2:.0f} s: {len(values) / (args.seconds / 2):,.0f} "
              f"answers/s (median {statistics.median(values):.1f} ms, p99 {percentile(values, 0.99):.1f} ms), "
              f"{len(only_errors)} errors")
        if errors or only_errors:
            print("\nerrors:", (errors + only_errors)[:10])
            sys.exit(1)
    finally:
        if not args.database:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()
