"""Benchmark: the panel served by gunicorn (the production set-up) to concurrent signed-in users, on the
large data set, each page beside a baseline measured in the same run.

Run with `make bench` (or `.venv/bin/python tests/bench/bench_load.py [--database NAME] [--users N]
[--seconds S] [--workers W --threads T]`). Without --database it creates a throw-away database, fills it
with `seed-demo --scale large` (sizes adjustable, e.g. --calls 1000000 for a quicker run) and drops it at
the end; with --database it uses one already seeded that way and keeps it.

Every user cycles through all the cases in a random order for --seconds, so each page and the baseline
(`GET /health/db`: no sign-in, one primary-key lookup) are timed under the same load. The table gives
the median and 95th percentile of each, and their ratio to the baseline's.
"""
import argparse
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

from tests.load.harness import Browser, Gunicorn, Samples, form_fields, percentile  # noqa: E402

ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
STAFF = ("bench-load@example.com", "bench password 123")
BASELINE = "baseline: GET /health/db (no sign-in, one primary-key lookup)"


def cases(customers: int, busiest: int, token: str) -> list[tuple[str, str, bool, dict | None]]:
    mid = customers // 2
    auth = {"Authorization": f"Bearer {token}"}
    return [
        (BASELINE, "/health/db", False, None),
        ("customers list, page 1", "/customers", False, None),
        ("customer search 'harbor tel' (htmx)", "/customers?q=harbor+tel", True, None),
        ("Main tab", f"/customers/{mid}", False, None),
        ("Main tab contacts section (htmx)", f"/customers/{mid}/contacts", True, None),
        ("Global Contacts search 'ines ito' (htmx)", "/contacts?q=ines+ito", True, None),
        ("customer audit log", f"/customers/{mid}/audit", False, None),
        *[(f"Summary tab {frame} of the busiest customer (htmx)", f"/customers/{busiest}/summary?frame={frame}", True,
           None) for frame in ("live", "daily", "weekly", "monthly")],
        ("invoice API page (GET /api/v1/invoices)", "/api/v1/invoices", False, auth),
        ("inline contact save (htmx POST)", "save", True, None),
    ]


def user(port: int, todo, contacts: list[tuple[int, int]], samples: Samples, until: float, seed: int,
         serial=iter(range(10**9))):
    rng = random.Random(seed)
    browser = Browser(port)
    try:
        browser.sign_in(*STAFF)
        while time.monotonic() < until:
            order = list(todo)
            rng.shuffle(order)
            for label, url, htmx, headers in order:
                if url == "save":
                    customer_id, contact_id = rng.choice(contacts)
                    page = browser.get(f"/customers/{customer_id}/contacts/{contact_id}/edit", htmx=True)
                    fields = form_fields(page.text, 'class="inline-form"')
                    fields.update(phone=f"+1 555 {next(serial):07d}", save_action="continue")
                    response = browser.post(f"/customers/{customer_id}/contacts/{contact_id}", fields, htmx=True)
                else:
                    response = browser.get(url, htmx=htmx, headers=headers)
                if response.status != 200:
                    samples.errors.append(f"{label}: {response.status}")
                samples.add(label, response)
    except Exception as error:
        samples.errors.append(f"{type(error).__name__}: {error}")
    finally:
        browser.close()


def uptime() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", help="a database already filled by seed-demo --scale large (kept)")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=10_000_000)
    parser.add_argument("--audit", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=16, help="concurrent signed-in users")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    base = ADMIN_URL.rsplit("/", 1)[0]
    admin = psycopg.connect(ADMIN_URL, autocommit=True)
    name = args.database or f"panel_bench_load_{uuid.uuid4().hex[:8]}"
    url = f"{base}/{name}"
    instance = f"/tmp/{name}"
    os.environ["PANEL_INSTANCE_PATH"] = instance
    try:
        from flask_migrate import upgrade

        from panel import create_app
        from panel import unit_of_work
        from panel.api.tokens import issue_token
        from panel.auth.models import StaffUser
        from panel.extensions import db
        from panel.staff import create_staff_user

        if not args.database:
            admin.execute(f'CREATE DATABASE "{name}"')
        app = create_app({"SQLALCHEMY_DATABASE_URI": url.replace("postgresql://", "postgresql+psycopg://"),
                          "BCRYPT_ROUNDS": 4, "SECRET_KEY": "bench"})
        with app.app_context():
            if not args.database:
                from panel.seed_large import seed_large

                upgrade()
                print(seed_large(instance, customers=args.customers, calls=args.calls, audit=args.audit))
            import sqlalchemy as sa

            if db.session.scalar(sa.select(StaffUser.id).where(StaffUser.email == STAFF[0])) is None:
                create_staff_user(STAFF[0], STAFF[1], "admin")
                unit_of_work.commit()
            from panel.options import set_option
            from panel.twofactor.factors import REQUIRE_OPTION

            set_option(REQUIRE_OPTION, "nobody")  # the benchmark's admin signs in with a password only
            unit_of_work.commit()
            token = issue_token(f"bench {uuid.uuid4().hex[:6]}", ["invoices"])
            unit_of_work.commit()
            customers = db.session.scalar(sa.text("SELECT max(id) FROM customer"))
            busiest = db.session.scalar(sa.text(
                "SELECT customer_id FROM call_hour GROUP BY customer_id ORDER BY sum(calls) DESC LIMIT 1")) or 1
            contacts = [tuple(r) for r in db.session.execute(sa.text(
                "SELECT customer_id, id FROM contact WHERE customer_id BETWEEN :a AND :b"),
                {"a": customers // 2, "b": customers // 2 + 50}).all()]
            db.session.remove()
            db.engine.dispose()

        todo = cases(customers, busiest, token)
        samples = Samples()
        load_before = uptime()
        with Gunicorn(url, instance, args.workers, args.threads) as server:
            warm = Browser(server.port)  # warm up every worker's imports, templates and pool
            warm.sign_in(*STAFF)
            for _ in range(args.workers * 2):
                for _, path, htmx, headers in todo:
                    if path != "save":
                        warm.get(path, htmx=htmx, headers=headers)
            warm.close()
            until = time.monotonic() + args.seconds
            threads = [threading.Thread(target=user, args=(server.port, todo, contacts, samples, until, i))
                       for i in range(args.users)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        load_after = uptime()

        total = sum(len(v) for v in samples.times.values())
        base_times = samples.times[BASELINE]
        b_med, b_p95 = statistics.median(base_times), percentile(base_times, 0.95)
        print(f"\ngunicorn -w {args.workers} -k gthread --threads {args.threads}; {args.users} concurrent signed-in "
              f"users for {args.seconds:.0f} s: {total:,} requests ({total / args.seconds:,.0f}/s), "
              f"{len(samples.errors)} errors; load average before {load_before}, after {load_after}; "
              f"{os.cpu_count()} cores\n")
        print("| page | requests | median ms | p95 ms | median ÷ baseline | p95 ÷ baseline |\n|---|---:|---:|---:|---:|---:|")
        for label, *_ in todo:
            times = samples.times.get(label, [])
            if not times:
                print(f"| {label} | 0 | – | – | – | – |")
                continue
            med, p95 = statistics.median(times), percentile(times, 0.95)
            print(f"| {label} | {len(times):,} | {med:.1f} | {p95:.1f} | {med / b_med:.1f} | {p95 / b_p95:.1f} |")
        if samples.errors:
            print("\nerrors:", samples.errors[:10])
            sys.exit(1)
    finally:
        if not args.database:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()
