"""Benchmark: importing call records from CSV and rolling them up into hourly figures, on PostgreSQL.

Run with `.venv/bin/python tests/bench/bench_calls.py [--records N --customers N]`. It creates a
throw-away database, loads customers with COPY, writes a CSV of N call records to a temporary file,
then times `import_csv` (records a second), a full roll-up from scratch and an incremental roll-up
after 1,000 late records (records for hours already rolled up).
"""
import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
HEADER = "customer_id,call_id,start_time,destination,answered,duration,billed_duration,rate,cost,charge\n"
DAYS = 30


def load_customers(url: str, customers: int) -> None:
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy("COPY customer (id, name, status, currency, debit_limit, channel_limit, flow_speed, "
                      "channels_in_use, email, phone, address_line1, address_line2, city, region, postal_code, "
                      "country, created_at, updated_at) FROM STDIN") as copy:
            for i in range(1, customers + 1):
                copy.write_row((i, f"Customer {i}", "Active", "USD", 100, 30, 0, 0, "", "", "", "", "", "", "", "",
                                "2026-01-01", "2026-01-01"))
        cur.execute("SELECT setval('customer_id_seq', %s)", (customers,))
        cur.execute("ANALYZE customer")


def write_csv(path: str, records: int, customers: int, prefix: str, seed: int) -> None:
    """`records` calls spread over DAYS days of March 2026, like a switch's export."""
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        lines = []
        for i in range(records):
            seconds = rng.randrange(DAYS * 86400)
            day, rest = divmod(seconds, 86400)
            hour, rest = divmod(rest, 3600)
            answered = rng.random() < 0.7
            duration = rng.randrange(1, 1800) if answered else 0
            billed = (duration + 59) // 60 * 60
            rate = rng.choice(("0.010000", "0.012500", "0.003000", "0.150000"))
            cost = billed * float(rate) / 60
            lines.append(f"{rng.randrange(1, customers + 1)},{prefix}{i},2026-03-{day + 1:02d}T{hour:02d}:"
                         f"{rest // 60:02d}:{rest % 60:02d}Z,44{rng.randrange(10**8):08d},{'true' if answered else 'false'},"
                         f"{duration},{billed},{rate},{cost:.4f},{cost * 1.5:.4f}\n")
            if len(lines) >= 10_000:
                out.writelines(lines)
                lines = []
        out.writelines(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=1_000)
    parser.add_argument("--late", type=int, default=1_000)
    args = parser.parse_args()

    name = f"panel_bench_calls_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(ADMIN_URL, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN_URL.rsplit("/", 1)[0]
    workdir = tempfile.mkdtemp(prefix="bench_calls_")
    try:
        os.environ["PANEL_INSTANCE_PATH"] = f"/tmp/{name}"
        from flask_migrate import upgrade

        from panel import create_app
        from panel.calls.importer import import_csv
        from panel.calls.rollup import rollup
        from panel.extensions import db

        app = create_app({"SQLALCHEMY_DATABASE_URI": f"{base.replace('postgresql://', 'postgresql+psycopg://')}/{name}",
                          "BCRYPT_ROUNDS": 4, "SECRET_KEY": "bench"})
        with app.app_context():
            upgrade()
        load_customers(f"{base}/{name}", args.customers)

        path = os.path.join(workdir, "calls.csv")
        started = time.perf_counter()
        write_csv(path, args.records, args.customers, "c", seed=1)
        print(f"wrote {args.records:,} records ({os.path.getsize(path) / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s")
        late = os.path.join(workdir, "late.csv")
        write_csv(late, args.late, args.customers, "late", seed=2)

        results = []
        with app.app_context():
            report = import_csv(path, "bench")
            assert (report.inserted, report.duplicates, len(report.bad)) == (args.records, 0, 0), report
            results.append((f"import_csv, {args.records:,} records", report.seconds,
                            f"{report.inserted / report.seconds:,.0f} records/s"))
            with db.engine.connect() as connection:  # fresh statistics, as autovacuum would have by now
                connection.execute(db.text("ANALYZE call_record"))
                connection.commit()
            full = rollup()
            results.append(("full roll-up from scratch", full.seconds, f"{full.hours:,} customer-hours"))
            late_report = import_csv(late, "bench")  # new calls in hours already rolled up
            assert late_report.inserted == args.late, late_report
            incremental = rollup()
            results.append((f"incremental roll-up after {args.late:,} late records", incremental.seconds,
                            f"{incremental.hours:,} customer-hours"))
            idle = rollup()
            results.append(("roll-up with nothing new", idle.seconds, f"{idle.hours:,} customer-hours"))
            db.session.remove()
            db.engine.dispose()

        print(f"\n| step ({args.customers:,} customers) | seconds | figure |\n|---|---:|---:|")
        for label, seconds, figure in results:
            print(f"| {label} | {seconds:.2f} | {figure} |")
    finally:
        for file in Path(workdir).glob("*"):
            file.unlink()
        os.rmdir(workdir)
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()
