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
import tempfile
import sys
import uuid
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.load.harness import Browser, Gunicorn, run_locust  # noqa: E402

ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
STAFF = ("bench-load@example.com", "bench password 123")
BASELINE = "baseline: GET /health/db (no sign-in, one primary-key lookup)"


def cases(customers: int, busiest: int, token: str) -> list[tuple[str, str, bool, dict | None]]:
    mid = customers // 2
    auth = {"Authorization": f"Bearer {token}"}
    return [
        (BASELINE, "/health/db", False, None),
        ("customers list, page 1", "/customers", False, None),
        ("customers list, last page", "/customers?last=1", False, None),
        ("Global Contacts, last page", "/contacts?last=1", False, None),
        ("customer search 'harbor tel' (htmx)", "/customers?q=harbor+tel", True, None),
        ("Main tab", f"/customers/{mid}", False, None),
        ("Main tab contacts section (htmx)", f"/customers/{mid}/contacts", True, None),
        ("Global Contacts search 'ines ito' (htmx)", "/contacts?q=ines+ito", True, None),
        ("Global Contacts search 'ines ito', last page (htmx)", "/contacts?q=ines+ito&last=1", True, None),
        ("Global Contacts search 'ito', a word: names (htmx)", "/contacts?q=ito", True, None),
        ("Global Contacts search 'ito' in e-mail addresses (htmx)", "/contacts?q=ito&in=emails", True, None),
        ("Global Contacts search 'ito' in e-mail addresses, last page (htmx)", "/contacts?q=ito&in=emails&last=1", True,
         None),
        ("Global Contacts search by e-mail fragment '@c4242.' (htmx)", "/contacts?q=%40c4242.", True, None),
        ("Global Contacts search 'ines.ito', the start of addresses (htmx)", "/contacts?q=ines.ito", True, None),
        ("Global Contacts search by phone fragment '123 4567' (htmx)", "/contacts?q=123+4567", True, None),
        ("customer audit log", f"/customers/{mid}/audit", False, None),
        ("global audit log, page 1", "/audit", False, None),
        ("global audit log, last page", "/audit?last=1", False, None),
        ("Delay Log, last page", "/delay-log?last=1", False, None),
        ("invoices of the busiest customer, last page (htmx)", f"/customers/{busiest}/invoices?last=1", True, None),
        *[(f"Summary tab {frame} of the busiest customer (htmx)", f"/customers/{busiest}/summary?frame={frame}", True,
           None) for frame in ("live", "daily", "weekly", "monthly")],
        ("invoice API page (GET /api/v1/invoices)", "/api/v1/invoices", False, auth),
        ("inline contact save (htmx POST)", "save", True, None),
    ]


def uptime() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", help="a database already filled by seed-demo --scale large (kept)")
    parser.add_argument("--scale", choices=["large", "huge"], default="large",
                        help="the data set's sizes (seed-demo --scale …); --customers, --calls and --audit override them")
    parser.add_argument("--customers", type=int)
    parser.add_argument("--calls", type=int)
    parser.add_argument("--audit", type=int)
    parser.add_argument("--users", type=int, default=16, help="concurrent signed-in users")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--steps", default="2,4,8,16,32", help="user counts of the step load (Main tab p95 vs rate)")
    parser.add_argument("--step-seconds", type=float, default=20)
    args = parser.parse_args()
    from panel.seed_large import SCALES

    sizes = {**SCALES[args.scale], **{k: v for k, v in (("customers", args.customers), ("calls", args.calls),
                                                           ("audit", args.audit)) if v is not None}}

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
                print(seed_large(instance, **sizes))
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
        setup = {"staff": [list(STAFF)], "customers": [customers // 2], "contacts": contacts, "days": [],
                 "api_token": token, "cases": [list(case) for case in todo]}
        folder = Path(tempfile.mkdtemp(prefix="bench-load-"))
        load_before = uptime()
        with Gunicorn(url, instance, args.workers, args.threads) as server:
            host = f"http://127.0.0.1:{server.port}"
            warm = Browser(server.port)  # warm up every worker's imports, templates and pool
            warm.sign_in(*STAFF)
            for _ in range(args.workers * 2):
                for _, path, htmx, headers in todo:
                    if path != "save":
                        warm.get(path, htmx=htmx, headers=headers)
            warm.close()
            stats = run_locust(host, setup, folder, args.users, args.seconds, "BenchUser", check=False)
            steps = []
            for users in [int(n) for n in args.steps.split(",") if n.strip()]:
                step = run_locust(host, setup, folder / f"step{users}", users, args.step_seconds, "BenchUser",
                                  check=False)
                steps.append((users, step))
        load_after = uptime()

        total = stats["Aggregated"]
        base = stats[BASELINE]
        print(f"\ngunicorn -w {args.workers} -k gthread --threads {args.threads}; {args.users} concurrent locust users "
              f"for {args.seconds:.0f} s: {int(total['Request Count']):,} requests ({float(total['Requests/s']):,.0f}/s), "
              f"{int(total['Failure Count'])} failures; load average before {load_before}, after {load_after}; "
              f"{os.cpu_count()} cores; locust's CSV in {folder}\n")
        print("| page | requests | median ms | p95 ms | p99 ms | median ÷ baseline | p95 ÷ baseline |\n"
              "|---|---:|---:|---:|---:|---:|---:|")
        b_med, b_p95 = float(base["50%"]) or 1, float(base["95%"]) or 1
        for label, *_ in todo:
            row = stats.get(label if label != "inline contact save (htmx POST)" else "inline contact save")
            if not row:
                print(f"| {label} | 0 | – | – | – | – | – |")
                continue
            med, p95, p99 = float(row["50%"]), float(row["95%"]), float(row["99%"])
            print(f"| {label} | {int(row['Request Count']):,} | {med:.0f} | {p95:.0f} | {p99:.0f} | {med / b_med:.1f} | "
                  f"{p95 / b_p95:.1f} |")
        print("\n| users (no pauses) | requests/s | Main tab p95 ms | baseline p95 ms |\n|---:|---:|---:|---:|")
        passed = None
        for users, step in steps:
            rate, main = float(step["Aggregated"]["Requests/s"]), float(step.get("Main tab", {}).get("95%", "nan"))
            print(f"| {users} | {rate:,.0f} | {main:.0f} | {float(step[BASELINE]['95%']):.0f} |")
            if passed is None and main > 200:
                passed = rate
        print(f"\nMain tab p95 passes 200 ms at: {f'{passed:,.0f} requests/s' if passed else 'not reached in these steps'}")
        if int(total["Failure Count"]):
            sys.exit(1)
    finally:
        if not args.database:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()
